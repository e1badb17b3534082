// Time-based one-time passwords as RFC 6238 defines them with the usual
// authenticator-app parameters: HMAC-SHA-1, 6 digits, 30-second steps.

import { createHmac } from 'node:crypto';

const STEP_SECONDS = 30;
const DIGITS = 6;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Decodes RFC 4648 base32, ignoring padding, spaces and case. */
export function base32Decode(text) {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes = [];
  let buffer = 0;
  let bitCount = 0;
  for (const character of clean) {
    const value = BASE32_ALPHABET.indexOf(character);
    if (value < 0) throw new Error(`invalid base32 character ${JSON.stringify(character)}`);
    buffer = (buffer << 5) | value;
    bitCount += 5;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes.push((buffer >> bitCount) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** Returns the code for time step `step` (seconds since the epoch / 30). */
export function totpForStep(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const number = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(number % 10 ** DIGITS).padStart(DIGITS, '0');
}

export function currentStep(nowMs = Date.now()) {
  return Math.floor(nowMs / 1000 / STEP_SECONDS);
}

export function totp(secret, nowMs = Date.now()) {
  return totpForStep(secret, currentStep(nowMs));
}

const usedSteps = new Map();

/**
 * Returns a code for a time step not used before with this secret, waiting
 * for the next step if needed, because a server may reject a code it has
 * already accepted. It also waits when fewer than 3 seconds of the step
 * remain, so the code cannot expire on its way to the server.
 */
export async function freshTotp(secret) {
  for (;;) {
    const now = Date.now();
    const step = currentStep(now);
    const remainingMs = (step + 1) * STEP_SECONDS * 1000 - now;
    if (usedSteps.get(secret) !== step && remainingMs > 3_000) {
      usedSteps.set(secret, step);
      return totpForStep(secret, step);
    }
    await new Promise((resolve) => setTimeout(resolve, remainingMs + 50));
  }
}

/** Returns a well-formed code that no nearby time step produces. */
export function wrongTotp(secret) {
  const step = currentStep();
  const nearby = new Set([-2, -1, 0, 1, 2].map((delta) => totpForStep(secret, step + delta)));
  let code = 123456;
  while (nearby.has(String(code).padStart(DIGITS, '0'))) code = (code + 111111) % 10 ** DIGITS;
  return String(code).padStart(DIGITS, '0');
}
