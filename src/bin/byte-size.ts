// Byte sizes on the command line: "512MB", "1.5GB" (powers of 1000), "1GiB" (powers of 1024), plain bytes.
import { UsageError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  // docker's one-letter suffixes ("-m 512m") are binary.
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

/** Parses a size for `flag`; kB/MB/GB are decimal like the sizes kiln prints, KiB/MiB/GiB and k/m/g binary. */
export function parseByteSize(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(`invalid ${flag} "${text}": expected a size such as 512MB, 1.5GB, 1GiB or a number of bytes`);
  }
  return Math.floor(Number(match[1]) * unit);
}

/** Like docker's units.HumanSize: 4 significant digits, decimal units ("12.3MB", "512B"). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(4))}${units[unit]}`;
}
