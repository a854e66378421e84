// Image names as archives spell them: full name with tag, the bare tag (OCI ref.name), and docker's familiar form.

/** "app" → "app:latest"; names with a tag or digest are kept. */
export function withTag(name: string): string {
  if (name.includes('@')) return name;
  const lastSlash = name.lastIndexOf('/');
  return name.indexOf(':', lastSlash + 1) === -1 ? `${name}:latest` : name;
}

/** The tag alone, which docker and BuildKit put in org.opencontainers.image.ref.name. */
export function tagOf(name: string): string {
  const full = withTag(name);
  const at = full.indexOf('@');
  if (at !== -1) return full.slice(at + 1);
  return full.slice(full.lastIndexOf(':') + 1);
}

/** Docker's short spelling: "docker.io/library/busybox:latest" → "busybox:latest". */
export function familiarName(name: string): string {
  return withTag(name).replace(/^docker\.io\/library\/(?=[^/]+$|[^/]+[:@])/, '').replace(/^docker\.io\//, '');
}

/** A ref.name that is a whole reference ("repo:tag", "host/repo"), not just a tag. */
export function isFullReference(refName: string): boolean {
  return refName.includes('/') || refName.includes(':');
}
