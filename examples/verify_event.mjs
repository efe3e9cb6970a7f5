// Verify our events' signatures with Node's `jose` (npm install jose), without this
// repository's code (docs/EVENTS.md, "Verifying that an event is ours"):
//
//   node verify_event.mjs booking.jwks.json [more.jwks.json ...] < events.jsonl
//
// One event per line, exactly as delivered (the AMQP message body): verify the bytes
// before you parse them, since an event read and written again (JSON.stringify, a
// CloudEvents SDK) is other bytes. Prints `ok <id>` or `FAILED line <n>: <why>`
// per event; exits 1 if any failed.
import { readFileSync, realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import * as jose from 'jose';

const MEMBER = ',"signature":"';

// The event (an object read from the verified bytes), or a rejected promise: a changed
// byte, an unknown key, or a key of another service than the one `source` names.
export async function verifyEvent(body, jwks) {
  const at = body.lastIndexOf(MEMBER);
  const payload = body.slice(0, at) + '}';
  const [header, , signature] = body.slice(at + MEMBER.length, -2).split('.');
  const token = `${header}.${jose.base64url.encode(payload)}.${signature}`;
  const { payload: bytes, protectedHeader } = await jose.compactVerify(
    token, jose.createLocalJWKSet(jwks), { algorithms: ['EdDSA', 'Ed25519'] });
  const event = JSON.parse(new TextDecoder().decode(bytes));
  if (protectedHeader.kid.split('-')[0] !== event.source.replace('/asan/', '')) {
    throw new Error(`key ${protectedHeader.kid} is not ${event.source}'s`);
  }
  return event;
}

async function main(paths) {
  const jwks = { keys: paths.flatMap((path) => JSON.parse(readFileSync(path, 'utf8')).keys) };
  let number = 0;
  let failed = false;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    number += 1;
    if (!line.trim()) continue;
    try {
      const event = await verifyEvent(line.trimEnd(), jwks);
      console.log(`ok ${event.id}`);
    } catch (error) {
      failed = true;
      console.log(`FAILED line ${number}: ${error.code || error.name}: ${error.message}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
