/** The samples of a Prometheus text exposition, keyed `name{label="value",...}` with the labels sorted. */
export function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sample = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) continue;
    const labels = [...(sample[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => `${name}="${value}"`).sort();
    found.set(`${sample[1]}{${labels.join(',')}}`, Number(sample[3]));
  }
  return found;
}

/** One sample by its name and exact labels; undefined when the exposition has none. */
export function sample(all: Map<string, number>, name: string, labels: Record<string, string> = {}): number | undefined {
  return all.get(`${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`);
}
