/**
 * One error base class (issue 13): every error the package throws on purpose
 * is a SipEndpointError with a stable string `code`, and state refusals that
 * used to be plain Errors are StateErrors (ERR_CLOSED, ERR_LIMIT, ERR_STATE).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  CallError,
  ConfigError,
  ConnectionError,
  ConnectionSettingsError,
  SipEndpointError,
  StateError,
  XmlError,
  completeSettings,
  configFromXml,
} from '../../src/sdk/index.ts';
import { SipParseError, parseMessage } from '../../src/parser/index.ts';
import { HeaderValueError } from '../../src/parser/header-safe.ts';
import { DigestError, computeDigest } from '../../src/registrar-client/index.ts';
import { DtmfError, OfferAnswerError, checkDigits } from '../../src/dialog/index.ts';
import { TransportError } from '../../src/transport/types.ts';
import { FakeClock, IllegalTransitionError, MissingRandomSourceError, TransactionLayer } from '../../src/transaction/index.ts';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  assert.unreachable('expected a throw');
  return undefined;
}

test('every public error class extends SipEndpointError and carries a string code', () => {
  const endpoint = { transport: 'udp' as const, host: '127.0.0.1', port: 5060 };
  const samples: Array<[unknown, Function, string]> = [
    [caught(() => parseMessage(new TextEncoder().encode('garbage\r\n\r\n'))), SipParseError, 'ERR_SIP_PARSE'],
    [new HeaderValueError('display_name', 'CR in display_name'), HeaderValueError, 'ERR_HEADER_VALUE'],
    [new TransportError('ECONNREFUSED', endpoint, 'refused'), TransportError, 'ECONNREFUSED'],
    [new IllegalTransitionError('m', 'a', 'b'), IllegalTransitionError, 'ERR_ILLEGAL_TRANSITION'],
    [new MissingRandomSourceError('none'), MissingRandomSourceError, 'ERR_NO_RANDOM_SOURCE'],
    [caught(() => computeDigest({ algorithm: 'MD5', username: 'u', realm: 'r', password: 'p', method: 'REGISTER', uri: 'sip:x', nonce: 'n', qop: 'auth', nc: '00000001' })), DigestError, 'cnonce-required'],
    [new OfferAnswerError('no-common-codec', 'none'), OfferAnswerError, 'no-common-codec'],
    [caught(() => checkDigits('5x')), DtmfError, 'ERR_DTMF'],
    [caught(() => configFromXml('<Cfg>', 'x.config')), ConfigError, 'xml'],
    [new XmlError('syntax', 'unclosed', { line: 1, column: 1, offset: 0 }), XmlError, 'syntax'],
    [new ConnectionError('no connection 3'), ConnectionError, 'ERR_CONNECTION'],
    [caught(() => completeSettings({ user: '', server: 'h' })), ConnectionSettingsError, 'ERR_CONNECTION_SETTINGS'],
    [new CallError('no-such-session', 'no session s9'), CallError, 'no-such-session'],
    [new StateError('ERR_CLOSED', 'closed'), StateError, 'ERR_CLOSED'],
  ];
  for (const [error, type, code] of samples) {
    assert.instance(error, type, type.name);
    assert.instance(error, SipEndpointError, `${type.name} extends SipEndpointError`);
    assert.instance(error, Error);
    assert.is((error as SipEndpointError).code, code, type.name);
    assert.is((error as SipEndpointError).name, type.name);
  }
});

test('state refusals are StateErrors: a closed transaction layer', () => {
  const layer = new TransactionLayer({ transport: { send() {}, isReliable: () => false, localEndpoint: (t) => ({ transport: t, host: '127.0.0.1', port: 5060 }), onReceive: undefined }, clock: new FakeClock(), user: { onRequest() {} } });
  layer.close();
  const error = caught(() => layer.sendRequest({ method: 'OPTIONS', uri: 'sip:x', headers: [['CSeq', '1 OPTIONS']] }, { transport: 'udp', host: '127.0.0.1', port: 5060 }, { onFinal() {} }));
  assert.instance(error, StateError);
  assert.is((error as StateError).code, 'ERR_CLOSED');
});

test.run();
