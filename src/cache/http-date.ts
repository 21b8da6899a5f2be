/**
 * HTTP-date (RFC 9110 §5.6.7), strictly: the preferred IMF-fixdate and the two obsolete forms a
 * recipient must accept (RFC 850 and asctime). Anything else is not a date — for `Expires` that
 * means "already expired" (RFC 9111 §5.3), never a lenient guess: `Date.parse` reads
 * `Thu, 18 Aug 2050 2:01:18 GMT` or a bare `2050` as a future date and would keep a response
 * fresh for decades. Names of days, months and `GMT` match case-insensitively, as RFC 9111 §4.2
 * asks of a cache recipient. Pure.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const SHORT_DAYS = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAYS = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** `Sun, 06 Nov 1994 08:49:37 GMT` */
const IMF_FIXDATE = new RegExp(`^${SHORT_DAYS}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
/** `Sunday, 06-Nov-94 08:49:37 GMT` */
const RFC_850 = new RegExp(`^${LONG_DAYS}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
/** `Sun Nov  6 08:49:37 1994` (day padded with a space) */
const ASCTIME = new RegExp(`^${SHORT_DAYS} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`, 'i');

/** Milliseconds since the epoch, or null when `value` is not an HTTP-date. */
export function parseHttpDate(value: string, now: number = Date.now()): number | null {
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) return build(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = RFC_850.exec(value);
  if (m !== null) return build(String(fullYear(Number(m[3]), now)), m[2], m[1], m[4], m[5], m[6]);
  m = ASCTIME.exec(value);
  if (m !== null) return build(m[6], m[1], (m[2] ?? '').trim(), m[3], m[4], m[5]);
  return null;
}

/** The single value of a header that must be one HTTP-date (several lines or values: invalid). */
export function parseHttpDateHeader(value: string | string[] | undefined, now?: number): number | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.length === 1 && value[0] !== undefined ? parseHttpDate(value[0].trim(), now) : null;
  return parseHttpDate(value.trim(), now);
}

/** IMF-fixdate of `ms` (what `Date.prototype.toUTCString` writes). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

function build(year: string | undefined, month: string | undefined, day: string | undefined, hour: string | undefined, minute: string | undefined, second: string | undefined): number | null {
  const y = Number(year);
  const mo = MONTHS.findIndex((m) => m.toLowerCase() === month?.toLowerCase());
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  // 60 is allowed for a leap second (RFC 9110 §5.6.7); it reads as the next minute's first.
  if (mo < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const ms = Date.UTC(y, mo, d, h, mi, s);
  // Reject days past the month's end (`31 Feb`): Date.UTC would roll them over silently.
  if (new Date(Date.UTC(y, mo, d)).getUTCDate() !== d) return null;
  return ms;
}

/**
 * RFC 850's two-digit year: a year that would be more than 50 years in the future is read as the
 * most recent past year with those digits (RFC 9110 §5.6.7).
 */
function fullYear(twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + twoDigits;
  if (year > current + 50) year -= 100;
  return year;
}
