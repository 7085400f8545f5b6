// Session tokens and API keys: 256 random bits, shown to the client once and stored only as their
// SHA-256 digest. A fast hash is right here (unlike passwords): a 256-bit random secret cannot be
// guessed, so slowing down each guess buys nothing, and every authenticated request pays the hash.
// Lookup is by digest through a unique index, so no secret is ever compared byte by byte in
// JavaScript.
//
//   session token:  imss_<43 base64url chars>
//   API key:        imsk_<8-char public prefix>_<43 base64url chars>   (the prefix names the key in
//                   listings and logs without revealing it)

import * as crypto from 'node:crypto';

const SECRET_BYTES = 32;
export const SESSION_TOKEN_PREFIX = 'imss_';
export const API_KEY_PREFIX = 'imsk_';
const SESSION_TOKEN_FORM = /^imss_[A-Za-z0-9_-]{43}$/;
const API_KEY_FORM = /^imsk_([a-z0-9]{8})_[A-Za-z0-9_-]{43}$/;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function sha256Hex(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newSessionToken(): string {
  return SESSION_TOKEN_PREFIX + crypto.randomBytes(SECRET_BYTES).toString('base64url');
}

export function isSessionTokenShaped(token: string): boolean {
  return SESSION_TOKEN_FORM.test(token);
}

export function newApiKey(): { key: string; prefix: string } {
  let prefix = '';
  for (let i = 0; i < 8; i++) prefix += PREFIX_ALPHABET[crypto.randomInt(PREFIX_ALPHABET.length)];
  return { key: `${API_KEY_PREFIX}${prefix}_${crypto.randomBytes(SECRET_BYTES).toString('base64url')}`, prefix };
}

/** The public prefix of a well-formed API key, or undefined. */
export function apiKeyPrefixOf(key: string): string | undefined {
  return API_KEY_FORM.exec(key)?.[1];
}
