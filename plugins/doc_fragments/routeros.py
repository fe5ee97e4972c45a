# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the RouterOS modules (action group ``diskless.datacenter.routeros``)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Address or name of the RouterOS device whose API service is used.
    type: str
    required: true
  username:
    description:
      - RouterOS user to log in with. It needs the C(api) and C(read) policies, and C(write) for the modules that change configuration.
    type: str
    required: true
  password:
    description:
      - Password of O(username).
    type: str
    required: true
  port:
    description:
      - TCP port of the API service.
      - Defaults to V(8729) when O(tls=true) (service C(api-ssl)), else V(8728) (service C(api)).
    type: int
  tls:
    description:
      - Use the TLS API service (C(api-ssl)).
    type: bool
    default: false
  validate_certs:
    description:
      - With O(tls=true), check the router's certificate against O(ca_path) (or the system's trust store).
      - Set to V(false) only on a trusted network; it also allows the anonymous Diffie-Hellman ciphers a RouterOS
        C(api-ssl) service without a certificate offers.
    type: bool
    default: true
  validate_cert_hostname:
    description:
      - With O(tls=true) and O(validate_certs=true), also check that the certificate names O(hostname).
      - Off by default because RouterOS certificates are often issued for a name other than the one used to reach them.
    type: bool
    default: false
  ca_path:
    description:
      - PEM file with the certificate authority (or the router's self-signed certificate) to validate against.
    type: path
  timeout:
    description:
      - Seconds to wait for the connection and for each reply.
    type: int
    default: 10
  encoding:
    description:
      - Character encoding of the API words (names, comments).
    type: str
    default: ASCII
notes:
  - Set the connection once for every RouterOS module of this collection with
    C(module_defaults) and the action group C(group/diskless.datacenter.routeros).
  - >-
    The modules talk to the RouterOS API (not SSH) through the C(librouteros) Python library, which must be installed
    where the module runs (usually the controller, with C(delegate_to: localhost) or C(connection: local)).
requirements:
  - librouteros (Python library; tested with 4.2.2)
"""
