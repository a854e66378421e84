// Frontend timing: parse + expand + lower a generated 5,000-instruction multi-stage Dockerfile. Run after `npm run build`.
import { performance } from 'node:perf_hooks';
import { buildDefinitionFromDockerfile } from '../dist/frontend/index.js';

const STAGES = 10;

/**
 * A realistic mix, scaled up: RUN and COPY dominate, ENV/ARG values build on earlier ones, heredocs and mounts appear,
 * and each stage ends with one CMD. The final stage copies from every other stage, so all of them are lowered.
 */
function generate(instructions) {
  // One in twenty instructions is an ENV, one an ARG: the RUN environment grows to ~50 variables per stage.
  const kinds = [
    (i) => `RUN apt-get install -y pkg${i} \\\n    && echo "$HOME/\${V${i}:-none}" done${i}`,
    (i) => `COPY --chown=app:app src/${i} /dst/\${A${i - 2}}/${i}`,
    (i) => `ENV KEY${i}="value ${i}" PATH=$PATH:/opt/${i}/bin`,
    (i) => `ARG A${i}=\${A${i - 20}:-1}`,
    (i) => `RUN --mount=type=cache,target=/cache/${i} make -C /src/${i}`,
    (i) => `LABEL com.example.k${i}="v${i}"`,
    (i) => `RUN ./configure --prefix=/usr/local && make -j4 && make install`,
    (i) => `COPY ["a ${i}", "b", "/dst/${i}/"]`,
    (i) => `RUN <<EOF\nset -e\necho ${i}\nEOF`,
    (i) => `WORKDIR /w/${i}`,
    (i) => `RUN ["/bin/true", "${i}"]`,
    (i) => `COPY --link rel/${i} ./`,
    (i) => `# comment ${i}\nEXPOSE ${1 + (i % 65534)}/tcp`,
    (i) => `RUN test -f /etc/${i} || touch /etc/${i}`,
    (i) => `ADD archive${i}.tar.gz /opt/${i}/`,
    (i) => `USER app`,
    (i) => `RUN echo ${i} > /tmp/${i}`,
    (i) => `COPY --from=busybox:latest /bin/busybox /bin/bb${i}`,
    (i) => `RUN ls -la /w/${i}`,
    (i) => `USER root`,
  ];
  const perStage = Math.floor(instructions / STAGES);
  const lines = ['# syntax=docker/dockerfile:1', 'ARG BASE=busybox'];
  let count = 0;
  for (let s = 0; s < STAGES; s++) {
    const last = s === STAGES - 1;
    lines.push(last ? 'FROM $BASE AS final' : `FROM $BASE AS stage${s}`);
    count++;
    const body = (last ? instructions - count : perStage - 1) - 1;
    for (let k = 0; k < body; k++) {
      if (last && k < STAGES - 1) lines.push(`COPY --from=stage${k} /w /from/${k}`);
      else lines.push(kinds[count % kinds.length](count));
      count++;
    }
    lines.push('CMD ["/bin/app"]');
    count++;
  }
  return { text: `${lines.join('\n')}\n`, count };
}

const { text, count } = generate(5000);
if (count !== 5000) throw new Error(`generated ${count} instructions, expected 5000`);

const resolver = {
  async resolveImageConfig() {
    return { digest: 'sha256:0', config: {}, history: [] };
  },
};
const request = {
  dockerfile: text,
  file: 'Dockerfile',
  buildArgs: {},
  platform: { os: 'linux', architecture: 'amd64' },
  resolver,
  contextExcludes: ['node_modules', '*.log'],
};

/** Wall and CPU milliseconds of one parse+expand+lower (CPU time is what other processes on the machine cannot inflate much). */
async function once() {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const def = await buildDefinitionFromDockerfile(request);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!def.target.root.digest.startsWith('sha256:')) throw new Error('no graph');
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

/** Outside the timing: every stage was lowered into the target's graph (the final stage copies from all the others). */
async function checkAllStagesLowered() {
  const def = await buildDefinitionFromDockerfile(request);
  const stages = new Set();
  const seen = new Set();
  const todo = [def.target.root];
  while (todo.length > 0) {
    const v = todo.pop();
    if (seen.has(v)) continue;
    seen.add(v);
    if (v.stage !== undefined) stages.add(v.stage);
    todo.push(...v.inputs);
  }
  if (stages.size !== STAGES) throw new Error(`graph has vertices of ${stages.size} stages, expected ${STAGES}`);
}

await checkAllStagesLowered();
for (let i = 0; i < 15; i++) await once();
const runs = 31;
const samples = [];
for (let i = 0; i < runs; i++) samples.push(await once());
const wall = samples.map((s) => s.wall).sort((a, b) => a - b);
const cpu = samples.map((s) => s.cpu).sort((a, b) => a - b);
console.log(
  `frontend: parse+expand+lower ${count} instructions in ${STAGES} stages (${text.length} chars): ` +
    `wall median ${wall[runs >> 1].toFixed(2)} ms (min ${wall[0].toFixed(2)}), cpu median ${cpu[runs >> 1].toFixed(2)} ms (min ${cpu[0].toFixed(2)}); target < 50 ms`,
);
