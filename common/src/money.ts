/** Currency minor units per ISO 4217 where they differ from 2. */
const MINOR_UNITS: Record<string, number> = {
  JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, UGX: 0, XAF: 0, XOF: 0,
  BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3, IQD: 3, LYD: 3,
};

export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

/** Rounds an amount half away from zero to the currency's minor unit, free of float artefacts in JSON. */
export function roundMoney(amount: number, currency: string): number {
  return roundTo(amount, minorUnits(currency));
}

export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  const scaled = value * f;
  // Nudge by a relative epsilon so 1.005 rounds to 1.01 as a person expects.
  const rounded = Math.sign(scaled) * Math.round(Math.abs(scaled) * (1 + Number.EPSILON));
  return rounded / f + 0; // + 0 turns -0 into 0
}
