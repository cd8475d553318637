/**
 * Must NOT compile: proves that the package's types are checked (not `any`).
 * scripts/test-package.mjs expects exactly these errors (TS2345, then three TS2339).
 */
import { parseMessage } from 'sip-endpoint/parser';
import { Phone } from 'sip-endpoint';

// TS2345: a string is not a Uint8Array.
parseMessage('INVITE sip:a@b SIP/2.0\r\n\r\n');
// TS2339: no such method on Phone.
void Phone.nonexistentFactory;
// TS2339: internals (@internal, stripped from the .d.ts) are not on the public types.
export async function internals(phone: Phone): Promise<void> {
  void phone.transport;
  phone.connections.markClosed();
}
