"""API semantics driven in-process: login, replies, tags, proplist, writes and the routers' error replies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lab.simulators.routeros.errors import FatalError
from tests.support.routeros_wire import PASSWORD, USERNAME, Conversation, attributes, kinds, rows, traps


# --------------------------------------------------------------------------- login
def test_login_success_is_a_bare_done(conversation_for: Callable[..., Conversation]) -> None:
    api = conversation_for(login=False)
    assert api.call("/login", f"=name={USERNAME}", f"=password={PASSWORD}") == [["!done"]]
    assert api.session.logged_in


def test_bad_credentials_trap_then_done_exactly_as_routers_send_it(conversation_for: Callable[..., Conversation]) -> None:
    api = conversation_for(login=False)
    replies = api.call("/login", f"=name={USERNAME}", "=password=wrong")
    assert replies == [["!trap", "=message=invalid user name or password (6)"], ["!done"]]
    assert not api.session.logged_in


def test_commands_before_login_end_the_session(conversation_for: Callable[..., Conversation]) -> None:
    api = conversation_for(login=False)
    with pytest.raises(FatalError, match="not logged in"):
        api.call("/interface/print")


def test_quit_ends_the_session_with_the_documented_reason(api: Conversation) -> None:
    with pytest.raises(FatalError, match=r"^session terminated on request$"):
        api.call("/quit")


# --------------------------------------------------------------------------- replies, tags, proplist
def test_every_reply_carries_the_tag_right_after_the_reply_word(api: Conversation) -> None:
    replies = api.call("/interface/print", ".tag=42")
    assert len(replies) > 2
    assert all(reply[1] == ".tag=42" for reply in replies)
    trap_replies = api.call("/ip/address/add", "=address=10.0.0.1/24", "=interface=nope", ".tag=x")
    assert [reply[:2] for reply in trap_replies] == [["!trap", ".tag=x"], ["!done", ".tag=x"]]


def test_untagged_commands_get_untagged_replies(api: Conversation) -> None:
    assert all(not word.startswith(".tag") for reply in api.call("/interface/print") for word in reply)


def test_proplist_limits_the_properties_and_unset_ones_are_absent(api: Conversation) -> None:
    api.add("/ip/pool", name="a", ranges="10.0.0.10-10.0.0.20", comment="first")
    api.add("/ip/pool", name="b", ranges="10.0.1.10-10.0.1.20")
    assert api.print("/ip/pool", "=.proplist=.id,name,comment") == [{".id": "*1", "name": "a", "comment": "first"}, {".id": "*2", "name": "b"}]
    assert api.print("/ip/pool", "=.proplist=comment") == [{"comment": "first"}, {}]


def test_count_only_returns_the_count_on_done(api: Conversation) -> None:
    replies = api.call("/interface/print", "=count-only=", "?type=ether")
    assert replies == [["!done", "=ret=10"]]


def test_getall_is_print(api: Conversation) -> None:
    assert rows(api.call("/interface/getall")) == api.print("/interface")


def test_queries_filter_print(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    assert [row["name"] for row in api.print("/interface", "?type=bridge")] == ["br0"]
    assert [row["name"] for row in api.print("/interface", "?type=bridge", "?name=ether1", "?#|")] == ["ether1", "br0"]


@pytest.mark.parametrize(("version", "empty_reply"), [("7.16", False), ("7.17.2", False), ("7.18", True), ("7.19.1", True)])
def test_empty_reply_only_from_7_18(conversation_for: Callable[..., Conversation], version: str, empty_reply: bool) -> None:
    api = conversation_for(version)
    replies = api.call("/ip/pool/print", ".tag=7")
    assert kinds(replies) == (["!empty", "!done"] if empty_reply else ["!done"])
    assert all(reply[1] == ".tag=7" for reply in replies)
    assert "!empty" not in kinds(api.call("/interface/print"))


# --------------------------------------------------------------------------- unknown commands
def test_unknown_directory_gets_the_two_traps_real_routers_send(api: Conversation) -> None:
    replies = api.call("/system/routerboard/getall")
    assert replies == [
        ["!trap", "=message=no such command or directory (routerboard)"],
        ["!trap", "=message=no such command prefix"],
        ["!done"],
    ]


def test_unknown_command_in_a_known_directory(api: Conversation) -> None:
    assert traps(api.call("/system/package/remove", "=.id=*1")) == ["no such command or directory (remove)", "no such command prefix"]
    assert traps(api.call("/interface/add", "=name=x")) == ["no such command or directory (add)", "no such command prefix"]


# --------------------------------------------------------------------------- writes
def test_add_returns_the_new_id_in_uppercase_hex_and_ids_increment(api: Conversation) -> None:
    ids = [api.add("/ip/pool", name=f"p{number}", ranges="10.0.0.1-10.0.0.2") for number in range(12)]
    assert ids == [f"*{number:X}" for number in range(1, 13)]
    assert "*A" in ids


def test_interfaces_share_one_id_space(api: Conversation) -> None:
    # Ten ethernet ports are *1..*A; a bridge and a VLAN interface take the next interface IDs.
    assert api.add("/interface/bridge", name="br0") == "*B"
    assert api.add("/interface/vlan", name="v10", vlan_id="10", interface="br0") == "*C"
    assert [row[".id"] for row in api.print("/interface", "?name=br0")] == ["*B"]


def test_defaults_are_filled_in_on_add(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    api.add("/interface/bridge/port", bridge="br0", interface="ether1")
    (port,) = api.print("/interface/bridge/port")
    assert port["pvid"] == "1"
    assert port["frame-types"] == "admit-all"
    assert port["ingress-filtering"] == "true"
    assert port["disabled"] == "false"
    assert port["dynamic"] == "false"
    (bridge,) = api.print("/interface/bridge")
    assert (bridge["vlan-filtering"], bridge["pvid"], bridge["protocol-mode"]) == ("false", "1", "rstp")


def test_default_names_are_numbered(api: Conversation) -> None:
    api.add("/interface/bridge")
    api.add("/interface/bridge")
    assert [row["name"] for row in api.print("/interface/bridge")] == ["bridge1", "bridge2"]


def test_booleans_accept_yes_no_true_false_and_print_true_false(api: Conversation) -> None:
    api.add("/interface/bridge", name="a", vlan_filtering="yes")
    api.add("/interface/bridge", name="b", vlan_filtering="true")
    api.add("/interface/bridge", name="c", vlan_filtering="no")
    api.add("/interface/bridge", name="d", vlan_filtering="false")
    assert [row["vlan-filtering"] for row in api.print("/interface/bridge")] == ["true", "true", "false", "false"]
    assert api.failure("/interface/bridge/add", "=name=e", "=vlan-filtering=maybe") == "input does not match any value of vlan-filtering"


def test_set_by_id_and_by_name(api: Conversation) -> None:
    bridge_id = api.add("/interface/bridge", name="br0")
    assert api.call("/interface/bridge/set", f"=.id={bridge_id}", "=comment=by id") == [["!done"]]
    assert api.print("/interface/bridge")[0]["comment"] == "by id"
    assert api.call("/interface/bridge/set", "=.id=br0", "=vlan-filtering=yes") == [["!done"]]
    assert api.print("/interface/bridge")[0]["vlan-filtering"] == "true"
    api.add("/interface/bridge/port", bridge="br0", interface="ether1")
    assert api.call("/interface/bridge/port/set", "=.id=ether1", "=pvid=30") == [["!done"]]
    assert api.print("/interface/bridge/port")[0]["pvid"] == "30"


def test_set_and_remove_accept_numbers_as_well_as_id(api: Conversation) -> None:
    pool_id = api.add("/ip/pool", name="a", ranges="10.0.0.1-10.0.0.9")
    assert api.call("/ip/pool/set", f"=numbers={pool_id}", "=comment=x") == [["!done"]]
    assert api.call("/ip/pool/remove", f"=numbers={pool_id}") == [["!done"]]
    assert api.print("/ip/pool") == []


def test_remove_takes_comma_separated_ids(api: Conversation) -> None:
    first = api.add("/ip/pool", name="a", ranges="10.0.0.1-10.0.0.9")
    api.add("/ip/pool", name="b", ranges="10.0.1.1-10.0.1.9")
    third = api.add("/ip/pool", name="c", ranges="10.0.2.1-10.0.2.9")
    assert api.call("/ip/pool/remove", f"=.id={first},{third}") == [["!done"]]
    assert [row["name"] for row in api.print("/ip/pool")] == ["b"]


def test_remove_with_one_unknown_id_removes_nothing(api: Conversation) -> None:
    first = api.add("/ip/pool", name="a", ranges="10.0.0.1-10.0.0.9")
    assert api.failure("/ip/pool/remove", f"=.id={first},*99") == "no such item (4)"
    assert len(api.print("/ip/pool")) == 1


def test_no_such_item(api: Conversation) -> None:
    assert api.failure("/ip/address/set", "=.id=*77", "=comment=x") == "no such item (4)"
    assert api.failure("/ip/address/remove", "=.id=*77") == "no such item (4)"
    assert api.failure("/interface/bridge/set", "=.id=nosuchbridge", "=comment=x") == "no such item (4)"


def test_unset_returns_a_property_to_absent_or_default(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0", comment="temporary", pvid="5")
    assert api.call("/interface/bridge/unset", "=.id=br0", "=value-name=comment") == [["!done"]]
    assert "comment" not in api.print("/interface/bridge")[0]
    assert api.call("/interface/bridge/unset", "=.id=br0", "=value-name=pvid") == [["!done"]]
    assert api.print("/interface/bridge")[0]["pvid"] == "1"


def test_settings_menus_have_one_item_without_id(api: Conversation) -> None:
    assert api.print("/system/identity") == [{"name": "MikroTik"}]
    assert api.call("/system/identity/set", "=name=rds1") == [["!done"]]
    assert api.print("/system/identity") == [{"name": "rds1"}]
    assert api.print("/ip/tftp/settings") == [{"max-block-size": "4096"}]


# --------------------------------------------------------------------------- error replies
def test_unknown_parameter_on_add_and_set(api: Conversation) -> None:
    assert api.failure("/ip/pool/add", "=name=a", "=ranges=10.0.0.1-10.0.0.2", "=colour=red") == "unknown parameter colour"
    api.add("/ip/pool", name="a", ranges="10.0.0.1-10.0.0.2")
    assert api.failure("/ip/pool/set", "=.id=a", "=colour=red") == "unknown parameter colour"


def test_read_only_properties_are_refused(api: Conversation) -> None:
    api.add("/ip/address", address="10.0.0.1/24", interface="ether1")
    assert api.failure("/ip/address/set", "=.id=*1", "=network=10.0.0.0") == "unknown parameter network"
    assert api.failure("/ip/address/add", "=address=10.0.1.1/24", "=interface=ether1", "=invalid=no") == "unknown parameter invalid"
    assert api.failure("/interface/set", "=.id=ether1", "=type=vlan") == "unknown parameter type"
    assert traps(api.call("/system/resource/set", "=version=8.0"))[0] == "no such command or directory (set)"


def test_ip_address_network_is_computed(api: Conversation) -> None:
    api.add("/ip/address", address="192.168.88.1/24", interface="ether1")
    api.add("/ip/address", address="10.1.2.3", interface="ether1")
    assert [(row["address"], row["network"]) for row in api.print("/ip/address")] == [("192.168.88.1/24", "192.168.88.0"), ("10.1.2.3/32", "10.1.2.3")]


def test_ip_address_interface_must_exist(api: Conversation) -> None:
    assert api.failure("/ip/address/add", "=address=10.0.0.1/24", "=interface=ether99") == "input does not match any value of interface"


def test_same_address_twice_on_an_interface(api: Conversation) -> None:
    api.add("/ip/address", address="10.0.0.1/24", interface="ether1")
    assert api.failure("/ip/address/add", "=address=10.0.0.1/24", "=interface=ether1") == "failure: already have such address"
    api.add("/ip/address", address="10.0.0.1/24", interface="sfp28-1")  # another interface is allowed


def test_device_already_added_as_bridge_port(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    api.add("/interface/bridge", name="br1")
    api.add("/interface/bridge/port", bridge="br0", interface="ether1")
    message = api.failure("/interface/bridge/port/add", "=bridge=br1", "=interface=ether1")
    assert message == "failure: device already added as bridge port"


def test_bridge_must_exist_for_a_port(api: Conversation) -> None:
    assert api.failure("/interface/bridge/port/add", "=bridge=ether1", "=interface=sfp28-1") == "input does not match any value of bridge"


@pytest.mark.parametrize("pvid", ["0", "4095", "70000"])
def test_pvid_out_of_range(api: Conversation, pvid: str) -> None:
    api.add("/interface/bridge", name="br0")
    assert api.failure("/interface/bridge/port/add", "=bridge=br0", "=interface=ether1", f"=pvid={pvid}") == "value of pvid out of range (1..4094)"


def test_duplicate_entries(api: Conversation) -> None:
    api.add("/ip/pool", name="a", ranges="10.0.0.1-10.0.0.2")
    assert api.failure("/ip/pool/add", "=name=a", "=ranges=10.0.1.1-10.0.1.2") == "failure: already have such entry"
    api.add("/interface/bridge", name="br0")
    api.add("/interface/bridge/vlan", bridge="br0", vlan_ids="100-115,120")
    assert api.failure("/interface/bridge/vlan/add", "=bridge=br0", "=vlan-ids=110") == "failure: already have such entry"


def test_interface_names_are_unique_across_interface_kinds(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    assert api.failure("/interface/vlan/add", "=name=br0", "=vlan-id=10", "=interface=ether1") == "failure: already have interface with such name"
    assert api.failure("/interface/bridge/add", "=name=ether1") == "failure: already have interface with such name"


def test_bridge_vlan_tagged_ports_must_be_interfaces(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    message = api.failure("/interface/bridge/vlan/add", "=bridge=br0", "=vlan-ids=10", "=tagged=br0,ether42")
    assert message.splitlines()[0] == "invalid value for argument interface:"
    assert "input does not match any value of interface" in message


def test_vlan_ids_ranges_are_kept_as_given(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    api.add("/interface/bridge/vlan", bridge="br0", vlan_ids="100-115, 120", tagged="br0")
    static = [row for row in api.print("/interface/bridge/vlan") if row["dynamic"] == "false"]
    assert static[0]["vlan-ids"] == "100-115,120"
    assert api.failure("/interface/bridge/vlan/add", "=bridge=br0", "=vlan-ids=4095") == "value of vlan-ids out of range (1..4094)"


# --------------------------------------------------------------------------- dynamic bridge VLAN entries
def bridge_vlans(api: Conversation) -> list[tuple[str, str, str]]:
    return [(row["vlan-ids"], row["dynamic"], row["current-untagged"]) for row in api.print("/interface/bridge/vlan")]


def test_dynamic_entries_follow_the_pvids_in_use(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    assert bridge_vlans(api) == [("1", "true", "br0")]  # the bridge itself, as CPU port, with its PVID
    api.add("/interface/bridge/port", bridge="br0", interface="ether1", pvid="10")
    api.add("/interface/bridge/port", bridge="br0", interface="sfp28-1")
    assert bridge_vlans(api) == [("1", "true", "br0,sfp28-1"), ("10", "true", "ether1")]
    api.call("/interface/bridge/port/set", "=.id=ether1", "=pvid=20")
    assert sorted(bridge_vlans(api)) == [("1", "true", "br0,sfp28-1"), ("20", "true", "ether1")]
    api.call("/interface/bridge/port/set", "=.id=ether1", "=disabled=yes")
    assert bridge_vlans(api) == [("1", "true", "br0,sfp28-1")]


def test_a_static_entry_replaces_the_dynamic_one_and_lists_pvid_ports_as_untagged(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0", vlan_filtering="yes")
    api.add("/interface/bridge/port", bridge="br0", interface="ether1", pvid="10")
    api.add("/interface/bridge/port", bridge="br0", interface="sfp28-1")
    static_id = api.add("/interface/bridge/vlan", bridge="br0", vlan_ids="10", tagged="br0,sfp28-1")
    entries = {row[".id"]: row for row in api.print("/interface/bridge/vlan")}
    assert entries[static_id]["current-untagged"] == "ether1"
    assert entries[static_id]["current-tagged"] == "br0,sfp28-1"
    assert [row["vlan-ids"] for row in entries.values() if row["dynamic"] == "true"] == ["1"]
    api.call("/interface/bridge/vlan/remove", f"=.id={static_id}")
    assert sorted(bridge_vlans(api)) == [("1", "true", "br0,sfp28-1"), ("10", "true", "ether1")]


def test_dynamic_entries_cannot_be_changed_or_removed(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    (dynamic,) = api.print("/interface/bridge/vlan")
    assert api.failure("/interface/bridge/vlan/remove", f"=.id={dynamic['.id']}").startswith("failure:")
    assert api.failure("/interface/bridge/vlan/set", f"=.id={dynamic['.id']}", "=tagged=br0").startswith("failure:")
    assert bridge_vlans(api) == [("1", "true", "br0")]


def test_current_tagged_and_untagged_are_read_only(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    vlan_id = api.add("/interface/bridge/vlan", bridge="br0", vlan_ids="5")
    assert api.failure("/interface/bridge/vlan/set", f"=.id={vlan_id}", "=current-tagged=br0") == "unknown parameter current-tagged"


def test_removing_a_bridge_removes_its_ports_and_vlan_entries(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    api.add("/interface/bridge/port", bridge="br0", interface="ether1")
    api.add("/interface/bridge/vlan", bridge="br0", vlan_ids="10")
    assert api.call("/interface/bridge/remove", "=.id=br0") == [["!done"]]
    assert api.print("/interface/bridge/port") == []
    assert api.print("/interface/bridge/vlan") == []


def test_renaming_an_interface_updates_references(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    api.add("/interface/bridge/port", bridge="br0", interface="ether1")
    api.add("/ip/address", address="10.0.0.1/24", interface="br0")
    api.call("/interface/bridge/set", "=.id=br0", "=name=lan")
    assert api.print("/interface/bridge/port")[0]["bridge"] == "lan"
    assert api.print("/ip/address")[0]["interface"] == "lan"


# --------------------------------------------------------------------------- other menus
def test_interfaces_are_the_configured_ports_plus_bridges_and_vlans(api: Conversation) -> None:
    names = [row["name"] for row in api.print("/interface")]
    assert names[:2] == ["ether1", "sfp28-1"]
    assert "qsfp28-1-1" in names
    api.add("/interface/bridge", name="br0")
    api.add("/interface/vlan", name="mgmt", vlan_id="99", interface="br0")
    types = {row["name"]: row["type"] for row in api.print("/interface")}
    assert (types["ether1"], types["br0"], types["mgmt"]) == ("ether", "bridge", "vlan")


def test_system_resource_reports_version_and_board(conversation_for: Callable[..., Conversation]) -> None:
    (resource,) = conversation_for("7.18.2").print("/system/resource")
    assert resource["version"] == "7.18.2 (stable)"
    assert resource["board-name"] == "RDS2216"
    assert resource["architecture-name"] == "arm64"
    assert resource["uptime"].endswith("s")
    assert ".id" not in resource


def test_system_package_lists_routeros_and_rose_storage(api: Conversation) -> None:
    packages = {row["name"]: row for row in api.print("/system/package")}
    assert {"routeros", "rose-storage"} <= packages.keys()
    assert packages["rose-storage"]["version"] == "7.16"


def test_dhcp_lease_mac_address_is_shown_upper_case(api: Conversation) -> None:
    api.add("/ip/dhcp-server", name="boot", interface="ether1")
    api.add("/ip/dhcp-server/lease", address="10.0.0.50", mac_address="52:54:00:ab:cd:ef", server="boot")
    api.add("/ip/dhcp-server/lease", address="10.0.0.51", mac_address="52-54-00-ab-cd-f0")
    leases = api.print("/ip/dhcp-server/lease")
    assert [lease["mac-address"] for lease in leases] == ["52:54:00:AB:CD:EF", "52:54:00:AB:CD:F0"]
    assert leases[1]["server"] == "all"
    assert leases[0]["dynamic"] == "false"


def test_dhcp_server_defaults_and_references(api: Conversation) -> None:
    api.add("/ip/dhcp-server", name="boot", interface="ether1")
    (server,) = api.print("/ip/dhcp-server")
    assert (server["address-pool"], server["authoritative"], server["disabled"]) == ("static-only", "yes", "false")
    assert api.failure("/ip/dhcp-server/add", "=name=x", "=interface=ether1", "=address-pool=nopool") == "input does not match any value of address-pool"
    api.add("/ip/dhcp-server/option", name="ipxe", code="67", value="'ipxe.efi'")
    (option,) = api.print("/ip/dhcp-server/option")
    assert option["raw-value"] == b"ipxe.efi".hex()
    network_id = api.add("/ip/dhcp-server/network", address="10.0.0.7/24", gateway="10.0.0.1", dhcp_option="ipxe", next_server="10.0.0.1")
    (network,) = api.print("/ip/dhcp-server/network")
    assert (network[".id"], network["address"], network["dhcp-option"]) == (network_id, "10.0.0.0/24", "ipxe")


def test_tftp_rules_and_settings(api: Conversation) -> None:
    api.add("/ip/tftp", req_filename="ipxe.efi", real_filename="/disk1/tftp/ipxe.efi")
    (rule,) = api.print("/ip/tftp")
    assert (rule["allow"], rule["read-only"], rule["hits"]) == ("true", "true", "0")
    assert api.call("/ip/tftp/settings/set", "=max-block-size=8192") == [["!done"]]
    assert api.print("/ip/tftp/settings") == [{"max-block-size": "8192"}]


def test_rose_file_disk_defaults_and_size_in_bytes(api: Conversation) -> None:
    disk_id = api.add("/disk", type="file", file_path="disk1/vol.img", file_size="10G", slot="vol", nvme_tcp_export="yes")
    (disk,) = api.print("/disk", "?type=file")
    assert disk[".id"] == disk_id
    assert disk["file-size"] == str(10 * 1024**3)
    assert (disk["nvme-tcp-export"], disk["nvme-tcp-server-port"], disk["iscsi-export"]) == ("true", "4420", "false")
    assert api.call("/disk/set", "=.id=vol", "=file-size=20G") == [["!done"]]  # slot works as a name
    assert api.print("/disk", "?slot=vol")[0]["file-size"] == str(20 * 1024**3)


def test_rose_file_disk_refuses_to_shrink(api: Conversation) -> None:
    api.add("/disk", type="file", file_path="disk1/vol.img", file_size="10G", slot="vol")
    assert api.failure("/disk/set", "=.id=vol", "=file-size=1G").startswith("failure:")
    assert api.print("/disk", "?slot=vol")[0]["file-size"] == str(10 * 1024**3)


def test_rose_file_disk_needs_path_and_size(api: Conversation) -> None:
    assert api.failure("/disk/add", "=type=file", "=slot=x", "=file-size=1G") == "failure: file-path not specified"
    assert api.failure("/disk/add", "=type=file", "=slot=x", "=file-path=nvme1/new.img") == "failure: file-size not specified"


def test_rose_file_disk_image_lives_on_under_file(api: Conversation) -> None:
    api.add("/disk", type="file", file_path="nvme1/vol.img", file_size="1G", slot="vol")
    (image,) = api.print("/file", "?name=nvme1/vol.img")
    assert (image["type"], image["size"]) == (".img file", str(1024**3))
    assert api.failure("/file/remove", "=.id=nvme1/vol.img").startswith("failure:")  # in use by the disk
    api.call("/disk/set", "=.id=vol", "=file-size=2G")
    assert api.print("/file", "?name=nvme1/vol.img")[0]["size"] == str(2 * 1024**3)
    assert api.call("/disk/remove", "=.id=vol") == [["!done"]]
    assert api.print("/file", "?name=nvme1/vol.img") != []  # removing the disk keeps its image
    api.add("/disk", type="file", file_path="/nvme1/vol.img", slot="again")  # an existing image needs no size
    assert api.print("/disk", "?slot=again")[0]["file-size"] == str(2 * 1024**3)
    api.call("/disk/remove", "=.id=again")
    assert api.call("/file/remove", "=.id=nvme1/vol.img") == [["!done"]]


def test_physical_drives_are_listed_and_cannot_be_removed(api: Conversation) -> None:
    drives = api.print("/disk", "?type=hardware")
    assert [drive["slot"] for drive in drives] == ["nvme1", "nvme2"]
    assert api.failure("/disk/remove", "=.id=nvme1").startswith("failure:")
    assert api.failure("/disk/add", "=type=hardware", "=slot=x") == "input does not match any value of type"
    assert {row["name"]: row["type"] for row in api.print("/file")} == {"nvme1": "disk", "nvme2": "disk"}


# --------------------------------------------------------------------------- listen and cancel
def test_cancel_interrupts_a_listen_as_documented(api: Conversation) -> None:
    assert api.call("/ip/address/listen", ".tag=10") == []
    update, done = api.call("/ip/address/add", "=address=1.1.1.1/32", "=interface=ether1")
    assert done == ["!done", "=ret=*1"]
    assert update[:2] == ["!re", ".tag=10"]  # pushed to the listener
    assert attributes(update)["address"] == "1.1.1.1/32"
    replies = api.call("/cancel", "=tag=10", ".tag=20")
    assert replies == [
        ["!trap", ".tag=10", "=category=2", "=message=interrupted"],
        ["!done", ".tag=20"],
        ["!done", ".tag=10"],
    ]


def test_listen_reports_removed_items_as_dead(api: Conversation) -> None:
    pool_id = api.add("/ip/pool", name="a", ranges="10.0.0.1-10.0.0.9")
    api.call("/ip/pool/listen", ".tag=1")
    assert api.call("/ip/pool/remove", f"=.id={pool_id}") == [["!re", ".tag=1", f"=.id={pool_id}", "=.dead=true"], ["!done"]]


def test_tftp_rules_keep_their_order_and_move_reorders_them(api: Conversation) -> None:
    first = api.add("/ip/tftp", req_filename="a")
    second = api.add("/ip/tftp", req_filename="b")
    third = api.add("/ip/tftp", req_filename="c")
    assert api.call("/ip/tftp/move", f"=numbers={third}", f"=destination={first}") == [["!done"]]
    assert [row[".id"] for row in api.print("/ip/tftp")] == [third, first, second]
    assert api.call("/ip/tftp/move", f"=numbers={third}") == [["!done"]]
    assert [row[".id"] for row in api.print("/ip/tftp")] == [first, second, third]


def test_bridges_and_vlans_can_be_changed_through_interface(api: Conversation) -> None:
    api.add("/interface/bridge", name="br0")
    assert api.call("/interface/set", "=.id=br0", "=comment=lab", "=name=lan") == [["!done"]]
    assert [(row["name"], row["comment"]) for row in api.print("/interface/bridge")] == [("lan", "lab")]
    assert api.call("/interface/set", "=.id=ether1", "=name=uplink") == [["!done"]]
    assert api.print("/interface", "?default-name=ether1")[0]["name"] == "uplink"


def test_settings_menus_take_set_but_no_add_remove_or_unset(api: Conversation) -> None:
    assert api.call("/ip/tftp/settings/set", "=max-block-size=1024") == [["!done"]]
    assert api.print("/ip/tftp/settings") == [{"max-block-size": "1024"}]
    assert api.failure("/ip/tftp/settings/set", "=max-block-size=100") == "value of max-block-size out of range (512..65464)"
    for command in ("add", "remove", "unset"):
        assert traps(api.call(f"/system/identity/{command}", "=name=x"))[0] == f"no such command or directory ({command})"
