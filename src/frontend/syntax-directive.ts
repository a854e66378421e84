// `# syntax=`: BuildKit would run the named frontend image; kiln only has its built-in Dockerfile frontend.
import type { DockerfileAst } from './ast.js';
import { DockerfileError } from './dockerfile-error.js';

// docker/dockerfile and docker/dockerfile-upstream, any registry (mirrors), any tag or digest: the frontend kiln implements.
const DOCKERFILE_FRONTEND = /^(?:[^/]+\/)*docker\/dockerfile(?:-upstream)?(?::[\w][\w.-]*)?(?:@[a-z0-9]+:[0-9a-fA-F]+)?$/;

/** Refuses a `# syntax=` naming another frontend, rather than silently building with a different one. */
export function checkSyntaxDirective(ast: DockerfileAst): void {
  const directive = ast.directives.find((d) => d.name.toLowerCase() === 'syntax');
  if (directive === undefined || DOCKERFILE_FRONTEND.test(directive.value)) return;
  throw new DockerfileError(
    ast.file,
    directive.line,
    1,
    `custom frontend ${JSON.stringify(directive.value)} is not supported: kiln builds with its built-in docker/dockerfile frontend (remove the syntax directive or name docker/dockerfile)`,
    ast.lines[directive.line - 1],
  );
}
