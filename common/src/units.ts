/** Mass units and their size in kilograms. */
const KG_PER_UNIT: Record<string, number> = { t: 1000, kg: 1, lb: 0.45359237, g: 0.001 };

export function isMassUnit(unit: string): boolean {
  return unit in KG_PER_UNIT;
}

/** Factor turning a quantity in `from` into `to`, or null when the units do not convert. */
export function unitFactor(from: string, to: string): number | null {
  if (from === to) return 1;
  const a = KG_PER_UNIT[from];
  const b = KG_PER_UNIT[to];
  return a !== undefined && b !== undefined ? a / b : null;
}
