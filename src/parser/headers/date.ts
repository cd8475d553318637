/**
 * Date (RFC 3261 s20.17): rfc1123-date, always "GMT". Checked when parsed
 * because RFC 4475 s3.1.2.12 lists a Date in EST as invalid; we reject it.
 */
import { SipParseError } from '../errors.ts';

const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Returns the time in ms since the epoch. */
export function parseSipDate(s: string): number {
  const match = DATE.exec(s.trim());
  if (match === null) throw new SipParseError('Date must be an RFC 1123 date in GMT', { header: 'date' });
  const [, , day, month, year, hours, minutes, seconds] = match;
  const time = Date.UTC(Number(year), MONTHS.indexOf(month!), Number(day), Number(hours), Number(minutes), Number(seconds));
  if (Number(day) < 1 || Number(day) > 31 || Number(hours) > 23 || Number(minutes) > 59 || Number(seconds) > 60) {
    throw new SipParseError('Date out of range', { header: 'date' });
  }
  return time;
}
