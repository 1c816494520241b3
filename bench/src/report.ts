/** CONTRACT §5 bench output: one JSON object per line per figure. */
export interface Figure {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

export function report(figure: Figure): void {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const line: Figure = { ...figure, value: round(figure.value) };
  if (figure.baseline !== undefined) {
    line.baseline = round(figure.baseline);
    line.ratio = round(figure.value / figure.baseline);
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
