/**
 * The SDK's event maps are closed (issue 13): a misspelt event name or a
 * wrong payload does not compile. The @ts-expect-error lines below are
 * checked by `npm run typecheck` (an error that stops happening fails it);
 * the test itself only checks that subscribing to the real names works.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TypedEvents } from '../../src/sdk/typed-events.ts';
import type { ConnectionEvents, PhoneEvents, SessionEvents } from '../../src/sdk/index.ts';

function compileChecks(connections: TypedEvents<ConnectionEvents>, sessions: TypedEvents<SessionEvents>, phone: TypedEvents<PhoneEvents>): void {
  // @ts-expect-error a misspelt event name
  connections.on('conectionStatusChanged', () => {});
  // @ts-expect-error sessions have no connection events
  sessions.on('connectionStatusChanged', () => {});
  // @ts-expect-error the payload has no such field
  sessions.on('sessionStatusChanged', (event) => event.sessionID);
  // @ts-expect-error an unknown phone event
  phone.on('message', () => {});
}

test('the real event names subscribe and deliver', () => {
  const events = new TypedEvents<SessionEvents>();
  const seen: string[] = [];
  events.on('dtmfReceived', (event) => seen.push(event.digit));
  events.emit('dtmfReceived', { sessionId: 's1', digit: '7' });
  assert.equal(seen, ['7']);
  assert.type(compileChecks, 'function');
});

test.run();
