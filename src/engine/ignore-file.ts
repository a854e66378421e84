// Finds and reads the .dockerignore that applies: <Dockerfile>.dockerignore first, then CONTEXT/.dockerignore.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDockerignore } from '../disk/dockerignore.js';

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function readIgnorePatterns(contextDir: string, dockerfilePath: string): Promise<readonly string[]> {
  const text = (await readIfExists(`${dockerfilePath}.dockerignore`)) ?? (await readIfExists(join(contextDir, '.dockerignore')));
  return text === undefined ? [] : parseDockerignore(text);
}
