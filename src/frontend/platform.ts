// Platform strings ("linux/arm/v7") and the predefined platform ARGs (TARGETPLATFORM, BUILDARCH, ...).
import type { Platform } from '../llb/index.js';

/** Node's process.arch in OCI architecture words (and the ARM variant when it has one). */
export function hostPlatform(arch: string = process.arch): Platform {
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm64':
      return { os: 'linux', architecture: 'arm64' };
    case 'arm':
      return { os: 'linux', architecture: 'arm', variant: 'v7' };
    case 'ia32':
      return { os: 'linux', architecture: '386' };
    case 'ppc64':
      return { os: 'linux', architecture: 'ppc64le' };
    default:
      // riscv64, s390x, mips64el, loong64: node and OCI use the same word.
      return { os: 'linux', architecture: arch };
  }
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

const ARCH_ALIASES: Readonly<Record<string, string>> = {
  x86_64: 'amd64',
  x86: '386',
  i386: '386',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
};

/** Parse "os/arch[/variant]" (or just "arch", meaning linux) like containerd's platforms.Parse, normalized. */
export function parsePlatform(text: string): Platform | undefined {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.some((p) => p === '' || !/^[a-z0-9_.-]+$/.test(p))) return undefined;
  let os: string;
  let arch: string;
  let variant: string | undefined;
  if (parts.length === 1) {
    os = 'linux';
    arch = parts[0]!;
  } else if (parts.length === 2) {
    [os, arch] = parts as [string, string];
  } else if (parts.length === 3) {
    [os, arch, variant] = parts as [string, string, string];
  } else {
    return undefined;
  }
  if (os === 'macos') os = 'darwin';
  arch = ARCH_ALIASES[arch] ?? arch;
  if (arch === 'arm64' && variant === 'v8') variant = undefined;
  if (arch === 'arm' && variant === undefined) variant = 'v7';
  return variant === undefined ? { os, architecture: arch } : { os, architecture: arch, variant };
}

/** The automatic platform ARGs of the global scope. */
export function platformArgs(target: Platform, build: Platform): ReadonlyMap<string, string> {
  return new Map([
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

export const PLATFORM_ARG_NAMES: ReadonlySet<string> = new Set([
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT',
  'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
]);
