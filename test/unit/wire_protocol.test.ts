import { FrameReader, listenCommands, MAX_MESSAGE_BYTES, messageLength, renameStatement, statementName, sqlText } from '../../src/storage/wire_protocol.ts';

/** A typed frontend message as a client sends it. */
function message(type: string, ...parts: (string | Buffer)[]): Buffer {
  const body = Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(`${part}\0`) : part)));
  const header = Buffer.alloc(5);
  header.write(type);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const NO_TYPES = Buffer.from([0, 0]);
const BIND_TAIL = Buffer.from([0, 0, 0, 0, 0, 0]);

test.each([
  ['Parse', message('P', 'rlflx-get', 'SELECT 1', NO_TYPES), 'rlflx-get', message('P', 'c7:rlflx-get', 'SELECT 1', NO_TYPES)],
  ['Bind', message('B', 'portal', 'rlflx-get', BIND_TAIL), 'rlflx-get', message('B', 'portal', 'c7:rlflx-get', BIND_TAIL)],
  ['Describe of a statement', message('D', Buffer.from('S'), 'rlflx-get'), 'rlflx-get', message('D', Buffer.from('S'), 'c7:rlflx-get')],
  ['Close of a statement', message('C', Buffer.from('S'), 'rlflx-get'), 'rlflx-get', message('C', Buffer.from('S'), 'c7:rlflx-get')],
  ['Describe of a portal', message('D', Buffer.from('P'), 'portal'), undefined, message('D', Buffer.from('P'), 'portal')],
  ['Execute', message('E', 'portal', Buffer.alloc(4)), undefined, message('E', 'portal', Buffer.alloc(4))],
  ['Parse of the unnamed statement', message('P', '', 'SELECT 1', NO_TYPES), '', message('P', '', 'SELECT 1', NO_TYPES)],
])('%s: the statement it names, and the message with that name given a connection\'s prefix', (_kind, sent, name, renamed) => {
  expect(statementName(sent)).toBe(name);
  expect(name ? renameStatement(sent, `c7:${name}`) : sent).toEqual(renamed);
  expect(messageLength(renamed, false)).toBe(renamed.length);
});

test('a message is complete only when all its bytes have arrived, however the stream is cut; the first messages have no type byte', () => {
  const parse = message('P', 'a', 'SELECT 1', NO_TYPES);
  const sync = message('S');
  const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
  const stream = Buffer.concat([sslRequest, parse, sync]);
  for (const cut of [1, 3, 7, 9, stream.length - 1]) {
    const frames = new FrameReader();
    const read: Buffer[] = [];
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
      frames.push(part);
      for (let next = frames.next(read.length === 0); next; next = frames.next(read.length === 0)) read.push(next);
    }
    expect(read).toEqual([sslRequest, parse, sync]);
  }
});

test.each([
  ['a typed length shorter than its own field', Buffer.from([0x51, 0, 0, 0, 0]), false],
  ['a negative length', Buffer.from([0x51, 0xff, 0xff, 0xff, 0x9c]), false],
  ['a first message shorter than a startup message', Buffer.from([0, 0, 0, 4]), true],
  ['a length over the limit', Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 0])]).fill(0xff, 1, 2), false],
])('%s is refused before a byte of its body arrives', (_kind, header, untyped) => {
  expect(messageLength(header, untyped)).toBeUndefined();
  const frames = new FrameReader();
  frames.push(header);
  expect(() => frames.next(untyped)).toThrow('malformed frontend message');
});

test('the limit is the largest message accepted', () => {
  const header = Buffer.from([0x51, 0, 0, 0, 0]);
  header.writeInt32BE(MAX_MESSAGE_BYTES, 1);
  expect(messageLength(header, false)).toBe(MAX_MESSAGE_BYTES + 1);
});

test('the SQL of Query and Parse messages', () => {
  expect(sqlText(message('Q', 'LISTEN a'))).toBe('LISTEN a');
  expect(sqlText(message('P', 'n', 'SELECT $1', NO_TYPES))).toBe('SELECT $1');
  expect(sqlText(message('S'))).toBeUndefined();
});

test.each([
  ['LISTEN gatehouse_client_changes', [{ listen: true, channel: 'gatehouse_client_changes' }]],
  ['listen Mixed_Case;', [{ listen: true, channel: 'mixed_case' }]],
  ['LISTEN "Quoted ""name"""', [{ listen: true, channel: 'Quoted "name"' }]],
  ['LISTEN a; UNLISTEN b; UNLISTEN *', [{ listen: true, channel: 'a' }, { listen: false, channel: 'b' }, { listen: false, channel: '*' }]],
  ["SELECT pg_notify('listen', 'x')", []],
  ['SELECT 1', []],
])('%s names the channels %j', (sql, commands) => {
  expect(listenCommands(sql)).toEqual(commands);
});
