import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

/** Which credential a request tried: each has its own count per client. */
export type CredentialSurface = 'admin' | 'metrics' | 'override' | (string & {});

/**
 * The client a failure is charged to. IPv4 by address; IPv6 by its /64, because one host is
 * usually handed a whole /64 and could otherwise rotate through addresses for free. With
 * `trustForwarded` (behind a proxy you control) the last X-Forwarded-For hop — the address your
 * proxy saw — not the first, which the client itself may have written.
 */
export function clientKeyOf(headers: IncomingHttpHeaders, socketAddress: string | undefined, trustForwarded: boolean): string {
  let address = socketAddress ?? '';
  if (trustForwarded) {
    const forwarded = headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').pop()?.trim();
    if (last !== undefined && last !== '') address = last;
  }
  return addressKey(address);
}

function addressKey(raw: string): string {
  const address = raw.split('%', 1)[0]!.toLowerCase();
  if (!address.includes(':')) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped !== null) return mapped[1]!;
  const [head = '', tail] = address.split('::', 2);
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** The 429 a blocked client gets, before its credential is looked at. */
export function rateLimitedError(): SwitchyardError {
  return new SwitchyardError('SWITCHYARD_AUTH_RATE_LIMITED', 'too many wrong credentials from this address; try again after Retry-After seconds', { status: 429 });
}

export function retryAfterHeader(retryAfterMs: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
}

/**
 * The limiter at the HTTP edge: who is asking (see clientKeyOf) and the 429. Every credential
 * check calls `refuseIfBlocked` first, then `failed` or `succeeded`.
 */
export class CredentialAttempts {
  constructor(
    private readonly limiter: AuthFailureLimiter,
    private readonly trustForwarded: () => boolean,
  ) {}

  /** Answers 429 problem+json with Retry-After when this client is blocked on `surface`. */
  refuseIfBlocked(req: IncomingMessage, res: ServerResponse, surface: CredentialSurface): boolean {
    const wait = this.retryAfterMs(req, surface);
    if (wait === 0) return false;
    sendProblem(res, rateLimitedError(), {}, retryAfterHeader(wait));
    return true;
  }

  retryAfterMs(req: IncomingMessage, surface: CredentialSurface): number {
    return this.limiter.retryAfterMs(this.keyOf(req, surface));
  }

  failed(req: IncomingMessage, surface: CredentialSurface): void {
    this.limiter.recordFailure(this.keyOf(req, surface));
  }

  succeeded(req: IncomingMessage, surface: CredentialSurface): void {
    this.limiter.recordSuccess(this.keyOf(req, surface));
  }

  private keyOf(req: IncomingMessage, surface: CredentialSurface): string {
    return `${surface} ${clientKeyOf(req.headers, req.socket.remoteAddress, this.trustForwarded())}`;
  }
}
