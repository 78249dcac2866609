/**
 * The few parts of the Postgres wire protocol (version 3) that the embedded database's socket
 * reads in order to share one PGlite session among many connections: message framing, the
 * names of prepared statements, ReadyForQuery, LISTEN and notifications.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Codes that a connection's first, untyped message carries instead of a protocol version. */
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** The largest frontend message accepted: Gatehouse's own are a few kilobytes, Postgres allows 1 GB. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** The bytes a message's header takes: messages before the startup message have no type byte. */
export function headerLength(untyped: boolean): number {
  return untyped ? 4 : 5;
}

/**
 * The length of the message whose header starts `header`, type byte included, or undefined when
 * it cannot be a valid message (a length shorter than the length field itself, shorter than a
 * startup message, or over MAX_MESSAGE_BYTES): PGlite must never see such a frame.
 */
export function messageLength(header: Buffer, untyped: boolean): number | undefined {
  const declared = header.readInt32BE(untyped ? 0 : 1);
  const least = untyped ? 8 : 4;
  return declared >= least && declared <= MAX_MESSAGE_BYTES ? declared + (untyped ? 0 : 1) : undefined;
}

/**
 * Splits a connection's byte stream into frontend messages, copying each byte about once however
 * the stream is chunked.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #size = 0;

  push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  /** The next complete message, or undefined while it is incomplete; throws on a frame that cannot be valid. */
  next(untyped: boolean): Buffer | undefined {
    const header = headerLength(untyped);
    if (this.#size < header) return undefined;
    const length = messageLength(this.#front(header), untyped);
    if (length === undefined) throw new Error('malformed frontend message');
    if (this.#size < length) return undefined;
    const all = this.#front(length);
    const rest = this.#chunks.slice(1);
    this.#chunks = all.length > length ? [all.subarray(length), ...rest] : rest;
    this.#size -= length;
    return all.subarray(0, length);
  }

  /** The first chunk, made at least `bytes` long by joining the ones after it. */
  #front(bytes: number): Buffer {
    if (this.#chunks[0]!.length < bytes) this.#chunks = [Buffer.concat(this.#chunks, this.#size)];
    return this.#chunks[0]!;
  }
}

/** The untyped message's code: the protocol version of a StartupMessage, or one of the requests above. */
export function untypedCode(message: Buffer): number {
  return message.length >= 8 ? message.readInt32BE(4) : 0;
}

/** Where the prepared statement's name starts in Parse, Bind, Describe and Close, if it has one. */
function statementNameOffset(message: Buffer): number | undefined {
  switch (String.fromCharCode(message[0]!)) {
    case 'P': return 5;
    case 'B': return message.indexOf(0, 5) + 1;
    case 'D':
    case 'C': return message[5] === 0x53 /* 'S' */ ? 6 : undefined;
    default: return undefined;
  }
}

/** The prepared statement a frontend message names ('' for the unnamed one, undefined for none). */
export function statementName(message: Buffer): string | undefined {
  const offset = statementNameOffset(message);
  return offset === undefined ? undefined : message.toString('utf8', offset, message.indexOf(0, offset));
}

/** The message with its statement name replaced (a message naming none is returned as it is). */
export function renameStatement(message: Buffer, name: string): Buffer {
  const offset = statementNameOffset(message);
  if (offset === undefined) return message;
  const end = message.indexOf(0, offset);
  const renamed = Buffer.concat([message.subarray(0, offset), Buffer.from(name), message.subarray(end)]);
  renamed.writeInt32BE(renamed.length - 1, 1);
  return renamed;
}

/** The SQL text of a Query or Parse message. */
export function sqlText(message: Buffer): string | undefined {
  const type = String.fromCharCode(message[0]!);
  if (type === 'Q') return message.toString('utf8', 5, message.indexOf(0, 5));
  if (type === 'P') {
    const start = message.indexOf(0, 5) + 1;
    return message.toString('utf8', start, message.indexOf(0, start));
  }
  return undefined;
}

/** A Close of a prepared statement, then Sync: what a client sends to drop one. */
export function closeStatement(name: string): Buffer {
  const close = Buffer.concat([Buffer.from('C\0\0\0\0S'), Buffer.from(`${name}\0`)]);
  close.writeInt32BE(close.length - 1, 1);
  return Buffer.concat([close, SYNC]);
}

export const SYNC = Buffer.from('S\0\0\0\x04', 'latin1');

/** A simple Query message. */
export function query(sql: string): Buffer {
  const message = Buffer.concat([Buffer.from('Q\0\0\0\0'), Buffer.from(`${sql}\0`)]);
  message.writeInt32BE(message.length - 1, 1);
  return message;
}

/** The backend's messages in a chunk of its output (the output of whole messages, never a part). */
export function* backendMessages(output: Buffer): Generator<Buffer> {
  for (let offset = 0; offset + 5 <= output.length;) {
    const end = offset + 1 + output.readInt32BE(offset + 1);
    yield output.subarray(offset, end);
    offset = end;
  }
}

/** The transaction status of a ReadyForQuery: I idle, T in a transaction, E in a failed one. */
export function readyStatus(message: Buffer): string | undefined {
  return message[0] === 0x5a /* 'Z' */ ? String.fromCharCode(message[5]!) : undefined;
}

/** The channel of a NotificationResponse. */
export function notificationChannel(message: Buffer): string | undefined {
  return message[0] === 0x41 /* 'A' */ ? message.toString('utf8', 9, message.indexOf(0, 9)) : undefined;
}

/** The LISTEN and UNLISTEN commands in a piece of SQL, channel names as Postgres folds them ('*' for all). */
export function listenCommands(sql: string): { listen: boolean; channel: string }[] {
  const commands: { listen: boolean; channel: string }[] = [];
  for (const match of sql.matchAll(/(?:^|;)\s*(UN)?LISTEN\s+("(?:[^"]|"")+"|\*|[^\s;]+)/gi)) {
    const name = match[2]!;
    const channel = name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase();
    commands.push({ listen: !match[1], channel });
  }
  return commands;
}

/** An identifier quoted for SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
