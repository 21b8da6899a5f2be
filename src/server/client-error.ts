import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problemBody, problemTitle } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import type { Logger } from '../logging/logger.js';

/** What Node's HTTP parser reports (its `clientError` event): a code, and the bytes it choked on. */
type ParserError = Error & { code?: string; rawPacket?: Buffer };

/** Node's own choice of status per parser error (its default `clientError` answer), as problems. */
function problemFor(error: ParserError): SwitchyardError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new SwitchyardError('SWITCHYARD_HEADERS_TOO_LARGE', 'the request headers are too large', { status: 431 });
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new SwitchyardError('SWITCHYARD_CHUNK_EXTENSIONS_TOO_LARGE', 'the chunk extensions are too large', { status: 413 });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new SwitchyardError('SWITCHYARD_REQUEST_TIMEOUT', 'the request was not received in time', { status: 408 });
    default:
      // The parser's code says what was wrong (e.g. HPE_INVALID_HEADER_TOKEN) without echoing client bytes.
      return new SwitchyardError('SWITCHYARD_BAD_REQUEST', `the request could not be parsed${error.code === undefined ? '' : ` (${error.code})`}`, { status: 400 });
  }
}

/**
 * A `clientError` listener for the server in front of Switchyard: a request Node cannot parse
 * (a malformed header, oversized headers) gets a problem+json answer like every other error,
 * instead of Node's bare status line, and the connection is closed — after a parse error the
 * rest of the stream cannot be trusted to start a new request. Attach it with
 * `server.on('clientError', switchyard.clientError)`.
 */
export function createClientErrorHandler(logger: Logger): (error: Error, socket: Duplex) => void {
  return (error, socket) => {
    const parserError = error as ParserError;
    const current = (socket as ParsedSocket)._httpMessage;
    // A reset connection has no one to answer; a response already under way cannot be replaced.
    if (parserError.code === 'ECONNRESET' || !socket.writable || current?.headersSent === true) {
      socket.destroy();
      return;
    }
    const problem = problemFor(parserError);
    logger.debug('malformed request refused', { code: parserError.code, status: problem.status });
    // The bad bytes came after complete, pipelined requests whose answers are still to be written:
    // answering now would put this 400 where the client expects the first of those.
    if (current !== null && current !== undefined && current.req?.complete === true) return afterPendingAnswers(socket, () => answer(socket, problem));
    answer(socket, problem);
  };
}

/** What Node keeps on a server socket: the response being written (the next pipelined one follows it). */
type ParsedSocket = Duplex & { _httpMessage?: (ServerResponse & { req?: { complete?: boolean } }) | null };

function answer(socket: Duplex, problem: SwitchyardError): void {
  if (!socket.writable) return void socket.destroy();
  const body = problemBody(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problemTitle(problem.status)}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Runs `then` once every response queued on the socket has been written (each finish hands the socket to the next). */
function afterPendingAnswers(socket: Duplex, then: () => void): void {
  const current = (socket as ParsedSocket)._httpMessage;
  if (current === null || current === undefined) return then();
  if (socket.destroyed) return;
  current.once('finish', () => setImmediate(() => afterPendingAnswers(socket, then)));
}
