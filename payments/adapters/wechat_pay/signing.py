"""WeChat Pay API v3 cryptography: request signatures, response and callback
verification, and callback decryption.

- A request is signed by the merchant: SHA256withRSA (PKCS#1 v1.5) over
  ``METHOD\\nURL_PATH\\nTIMESTAMP\\nNONCE\\nBODY\\n``, where URL_PATH is the path with its
  query string and BODY the exact bytes sent (empty for a GET). The signature travels in
  the ``Authorization`` header with the merchant id, the nonce, the timestamp and the
  serial number of the merchant certificate.
- A response or a callback is signed by WeChat Pay over ``TIMESTAMP\\nNONCE\\nBODY\\n``
  with the key whose id is in ``Wechatpay-Serial``. This adapter works in public-key
  mode only: the one key it trusts is the configured WeChat Pay public key, named by
  its ``public_key_id`` (no platform certificates are downloaded).
- A callback's ``resource`` is AEAD_AES_256_GCM ciphertext under the merchant's 32-byte
  APIv3 key, with the resource's ``nonce`` and ``associated_data``; the GCM tag at the
  end of the ciphertext authenticates it.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "AUTH_SCHEME",
    "DecryptionFailed",
    "authorization",
    "decrypt_resource",
    "load_private_key",
    "load_public_key",
    "new_nonce",
    "request_message",
    "sign",
    "verify",
    "verify_message",
]

AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"


class DecryptionFailed(Exception):
    """The ciphertext is not authentic under the APIv3 key (or not decodable)."""


def load_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    """The merchant's RSA private key from PEM (ValueError when it is not one)."""
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant private key is not an RSA key")
    return key


def load_public_key(pem: str | bytes) -> rsa.RSAPublicKey:
    """The WeChat Pay public key from PEM (ValueError when it is not an RSA key)."""
    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the WeChat Pay public key is not an RSA key")
    return key


def new_nonce() -> str:
    """32 random characters for ``nonce_str``."""
    return secrets.token_hex(16).upper()


def request_message(method: str, url_path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a merchant signs for one request."""
    head = f"{method.upper()}\n{url_path}\n{timestamp}\n{nonce}\n".encode()
    return head + body + b"\n"


def verify_message(timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes WeChat Pay signs for a response or a callback."""
    return f"{timestamp}\n{nonce}\n".encode() + body + b"\n"


def sign(private_key: rsa.RSAPrivateKey, message: bytes) -> str:
    """Base64 SHA256withRSA signature."""
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(public_key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is the key's SHA256withRSA signature of ``message``."""
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        public_key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, binascii.Error, UnicodeEncodeError):
        return False
    return True


def authorization(
    *,
    mchid: str,
    serial_no: str,
    private_key: rsa.RSAPrivateKey,
    method: str,
    url_path: str,
    body: bytes,
    timestamp: str | None = None,
    nonce: str | None = None,
) -> str:
    """The ``Authorization`` header value for one request."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or new_nonce()
    signature = sign(private_key, request_message(method, url_path, timestamp, nonce, body))
    return (
        f'{AUTH_SCHEME} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


def decrypt_resource(
    apiv3_key: bytes, *, nonce: str, ciphertext: str, associated_data: str
) -> bytes:
    """The plaintext of a callback's ``resource`` (DecryptionFailed when not authentic)."""
    try:
        data = base64.b64decode(ciphertext.encode("ascii"), validate=True)
        return AESGCM(apiv3_key).decrypt(nonce.encode(), data, associated_data.encode())
    except (InvalidTag, ValueError, binascii.Error, UnicodeEncodeError, TypeError) as exc:
        raise DecryptionFailed(type(exc).__name__) from exc
