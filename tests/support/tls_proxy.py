"""An https endpoint in front of the emulator, signed by a throwaway CA, for the container tests.

Usage: tls_proxy.py UPSTREAM_HOST:PORT DIR

Writes DIR/ca.pem (a fresh test CA; a scratch image would hold its public CA bundle in the same
place) and a server certificate for the IP address 127.0.0.1 signed by it, listens on a free
loopback port, prints "https://127.0.0.1:PORT" on a line of its own, and forwards every
decrypted connection to UPSTREAM unchanged. It exits when its stdin closes, so it never
outlives the test that started it.
"""
import datetime
import ipaddress
import os
import socket
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def make_certificates(out):
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ecs-env container test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    with open(os.path.join(out, "ca.pem"), "wb") as f:
        f.write(pem(ca))
    with open(os.path.join(out, "server.pem"), "wb") as f:
        f.write(pem(leaf))
    with open(os.path.join(out, "server.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass


def serve(conn, context, upstream):
    try:
        client = context.wrap_socket(conn, server_side=True)
    except (OSError, ssl.SSLError):
        # A client that does not trust the CA aborts the handshake: expected in the tests.
        conn.close()
        return
    try:
        server = socket.create_connection(upstream)
    except OSError:
        client.close()
        return
    threading.Thread(target=pipe, args=(server, client), daemon=True).start()
    pipe(client, server)


def main():
    upstream_text, out = sys.argv[1], sys.argv[2]
    host, port = upstream_text.rsplit(":", 1)
    upstream = (host, int(port))
    make_certificates(out)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(os.path.join(out, "server.pem"), os.path.join(out, "server.key"))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn, context, upstream), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(f"https://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    # Until the test process goes away.
    sys.stdin.read()


if __name__ == "__main__":
    main()
