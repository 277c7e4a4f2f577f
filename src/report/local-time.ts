/**
 * formatTime for many times at once (a table): the same text, without a Date per time. A table of
 * 10,000 runs formats 20,000 times, and a Date each (made, then asked for its local fields) cost
 * about 1 µs, a fifth of `list runs`' time per run. The zone's offset is asked of a Date once
 * per UTC day and trusted for the whole day when it is the same at both ends of it (zones change
 * their offset at most once a day); on a day where it differs each time gets a Date.
 */
import { formatTime } from './table.js';

const DAY = 86_400;
/** `00` to `99`. */
const TWO = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/** formatTime with the zone's offset and each local day's date kept between calls. */
export class LocalTimes {
  #utcDay = Number.NaN;
  #offset = 0;
  #localDay = Number.NaN;
  #date = '';

  /** formatTime(t): local `YYYY-MM-DD HH:MM:SS`, or '-' for none. */
  format(t: number | null): string {
    if (t === null) return '-';
    // Whole seconds as Date counts them: milliseconds truncated, then floored.
    const s = Math.floor(Math.trunc(t * 1000) / 1000);
    const utcDay = Math.floor(s / DAY);
    if (utcDay !== this.#utcDay && !this.#learnOffset(utcDay)) return formatTime(t);
    const local = s + this.#offset;
    const localDay = Math.floor(local / DAY);
    if (localDay !== this.#localDay) {
      // The date part of formatTime at this local day's noon in UTC terms: its own fields.
      this.#date = formatTime(localDay * DAY + DAY / 2 - this.#offset).slice(0, -8);
      this.#localDay = localDay;
    }
    const inDay = local - localDay * DAY;
    const hour = Math.floor(inDay / 3600);
    const minute = Math.floor((inDay - hour * 3600) / 60);
    return `${this.#date}${TWO[hour]}:${TWO[minute]}:${TWO[inDay - hour * 3600 - minute * 60]}`;
  }

  /** Keeps the offset of a UTC day whose offset does not change; false when it does. */
  #learnOffset(utcDay: number): boolean {
    const start = offsetAt(utcDay * DAY);
    if (start !== offsetAt(utcDay * DAY + DAY - 1)) return false;
    this.#utcDay = utcDay;
    this.#offset = start;
    return true;
  }
}

/**
 * Local time minus UTC at `s` (whole seconds since the epoch), in seconds, from the local fields:
 * getTimezoneOffset is in whole minutes, and an old zone's offset may have seconds (LMT).
 */
function offsetAt(s: number): number {
  const d = new Date(s * 1000);
  // Date.UTC reads years 0–99 as 1900–1999: no offset then (each time gets its own Date).
  if (d.getFullYear() < 100) return Number.NaN;
  const local = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds());
  return local / 1000 - s;
}
