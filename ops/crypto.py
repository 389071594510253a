"""Encryption of secrets at rest (VPN passwords) and of backup files, with Fernet keys from the settings.

The VPN key is never derived from SECRET_KEY in production: leaking the Django secret must not reveal
the agency's bank VPN passwords. Only in DEBUG or the embedded default, with no key configured, a fixed
development key is used, with a loud warning. Must not import `cases`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

logger = logging.getLogger(__name__)

# 4 MiB of plaintext per encrypted record: memory stays flat however large the backup file is.
CHUNK = 4 * 1024 * 1024
BACKUP_MAGIC = b"CMBK1\n"


class CryptoError(Exception):
    pass


def _dev_key() -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(b"cm-dev-only-vpn-key; never used in production").digest())


def vpn_fernet() -> MultiFernet:
    """All configured VPN keys; the first encrypts, every one decrypts (rotation)."""
    keys = list(settings.VPN_ENCRYPTION_KEYS)
    if not keys:
        if settings.DEBUG or settings.EMBEDDED:
            logger.warning("VPN_ENCRYPTION_KEYS is not set: using the DEVELOPMENT key. "
                           "Never store real VPN passwords like this.")
            return MultiFernet([Fernet(_dev_key())])
        raise CryptoError("未配置 VPN 密码加密密钥（环境变量 VPN_ENCRYPTION_KEYS），无法保存或显示 VPN 密码。")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise CryptoError("VPN 密码加密密钥格式不正确（须为 Fernet 密钥：32 字节的 URL 安全 Base64）。") from exc


def vpn_using_dev_key() -> bool:
    return not settings.VPN_ENCRYPTION_KEYS


def encrypt_secret(plaintext: str) -> str:
    return vpn_fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return vpn_fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise CryptoError("无法解密：密钥不匹配（是否更换了 VPN_ENCRYPTION_KEYS 而未保留旧密钥？）。") from exc


def rotate_secret(token: str) -> str:
    """Re-encrypt a token with the first (newest) key."""
    try:
        return vpn_fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise CryptoError("无法用现有任何密钥解密该密文。") from exc


# --- Backup files: a stream of length-prefixed Fernet records --------------------------------------------

def backup_fernet(key: str | None = None) -> Fernet:
    raw = key if key is not None else settings.BACKUP_ENCRYPTION_KEY
    if not raw:
        raise CryptoError("未配置备份加密密钥（环境变量 BACKUP_ENCRYPTION_KEY）。")
    try:
        return Fernet(raw.encode() if isinstance(raw, str) else raw)
    except (ValueError, TypeError) as exc:
        raise CryptoError("备份加密密钥格式不正确（须为 Fernet 密钥）。") from exc


class EncryptingWriter:
    """A write-only file object: buffers plaintext and writes a Fernet record per CHUNK to `out`."""

    def __init__(self, out: BinaryIO, fernet: Fernet) -> None:
        self.out = out
        self.fernet = fernet
        self.buffer = bytearray()
        self.out.write(BACKUP_MAGIC)

    def write(self, data: bytes) -> int:
        self.buffer += data
        while len(self.buffer) >= CHUNK:
            self._emit(bytes(self.buffer[:CHUNK]))
            del self.buffer[:CHUNK]
        return len(data)

    def _emit(self, chunk: bytes) -> None:
        token = self.fernet.encrypt(chunk)
        self.out.write(struct.pack(">I", len(token)))
        self.out.write(token)

    def flush(self) -> None:
        self.out.flush()

    def close(self) -> None:
        if self.buffer:
            self._emit(bytes(self.buffer))
            self.buffer.clear()
        self.out.write(struct.pack(">I", 0))  # end marker: a truncated file is detected, not silently short
        self.out.flush()


def decrypt_records(src: BinaryIO, fernet: Fernet) -> Iterator[bytes]:
    """The plaintext chunks of an encrypted backup file."""
    if src.read(len(BACKUP_MAGIC)) != BACKUP_MAGIC:
        raise CryptoError("不是本系统的加密备份文件。")
    while True:
        head = src.read(4)
        if len(head) != 4:
            raise CryptoError("加密备份文件不完整（缺少结束标记）。")
        (size,) = struct.unpack(">I", head)
        if size == 0:
            return
        token = src.read(size)
        if len(token) != size:
            raise CryptoError("加密备份文件不完整。")
        try:
            yield fernet.decrypt(token)
        except InvalidToken as exc:
            raise CryptoError("备份解密失败：密钥不对或文件被改动。") from exc


class DecryptingReader:
    """A read-only file object over an encrypted backup file (for tarfile's stream mode).

    Keeps the current plaintext chunk and an offset into it: tarfile reads 10 KiB at a time, and slicing
    a 4 MiB buffer on every read would copy the backup hundreds of times over.
    """

    def __init__(self, src: BinaryIO, fernet: Fernet) -> None:
        self.chunks = decrypt_records(src, fernet)
        self.chunk = b""
        self.pos = 0
        self.done = False

    def _fill(self) -> bool:
        if self.pos < len(self.chunk):
            return True
        if self.done:
            return False
        try:
            self.chunk, self.pos = next(self.chunks), 0
        except StopIteration:
            self.done = True
            self.chunk, self.pos = b"", 0
            return False
        return True

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        wanted = size
        while (size < 0 or wanted > 0) and self._fill():
            end = len(self.chunk) if size < 0 else min(len(self.chunk), self.pos + wanted)
            parts.append(self.chunk[self.pos:end])
            wanted -= end - self.pos
            self.pos = end
        return b"".join(parts)
