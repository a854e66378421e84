// Ages as docker prints them in `docker ps` ("Less than a second", "5 seconds", "About a minute", "3 hours").

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / SECOND);
  if (seconds < 1) return 'Less than a second';
  if (seconds < 60) return plural(seconds, 'second');
  const minutes = Math.round(ms / MINUTE);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return plural(hours, 'hour');
  if (ms < 7 * DAY * 2) return plural(Math.round(ms / DAY), 'day');
  if (ms < 60 * DAY) return plural(Math.round(ms / (7 * DAY)), 'week');
  if (ms < 365 * DAY * 2) return plural(Math.round(ms / (30 * DAY)), 'month');
  return plural(Math.round(ms / (365 * DAY)), 'year');
}
