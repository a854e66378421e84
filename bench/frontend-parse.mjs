// Parse-only timing: a generated 5,000-instruction Dockerfile, after warm-up. Run after `npm run build`.
import { performance } from 'node:perf_hooks';
import { parseDockerfile } from '../dist/frontend/parser.js';

function generate(instructions) {
  const kinds = [
    (i) => `RUN apt-get install -y pkg${i} \\\n    && echo done${i}`,
    (i) => `COPY --from=build --chown=app:app /src/${i} /dst/${i}`,
    (i) => `ENV KEY${i}="value ${i}" OTHER${i}=x`,
    (i) => `LABEL com.example.k${i}="v${i}"`,
    (i) => `ARG A${i}=1`,
    (i) => `CMD ["/bin/app", "--n", "${i}"]`,
    (i) => `WORKDIR /w/${i}`,
    (i) => `RUN <<EOF\necho ${i}\nEOF`,
    (i) => `# comment ${i}\nEXPOSE ${i % 65535}`,
    (i) => `HEALTHCHECK --interval=5s CMD curl -f http://localhost/${i}`,
  ];
  const lines = ['# syntax=docker/dockerfile:1', 'FROM busybox AS base'];
  for (let i = 1; i < instructions; i++) lines.push(kinds[i % kinds.length](i));
  return lines.join('\n') + '\n';
}

const text = generate(5000);
for (let i = 0; i < 30; i++) parseDockerfile(text, 'Dockerfile');
const runs = 50;
const times = [];
const cpu = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ast = parseDockerfile(text, 'Dockerfile');
  const c1 = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  // CPU time (all threads, GC helpers included) stays meaningful when other processes share the cores.
  cpu.push((c1.user + c1.system) / 1000);
  if (ast.children.length !== 5000) throw new Error(`expected 5000 instructions, got ${ast.children.length}`);
}
const ms = (values, k) => [...values].sort((a, b) => a - b)[k].toFixed(2);
console.log(
  `parse 5000 instructions (${text.length} chars): wall median ${ms(times, runs >> 1)} ms (min ${ms(times, 0)}), cpu median ${ms(cpu, runs >> 1)} ms (min ${ms(cpu, 0)})`,
);
