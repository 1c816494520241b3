/** The rules, one per alert type: the table is the whole routing. */
import type { AlertType } from '@pledgewatch/common';
import { damage } from './damage.ts';
import { ltvAlert } from './ltv.ts';
import { monitoringGap } from './monitoring-gap.ts';
import { priceStale } from './price-stale.ts';
import { quantityLoss } from './quantity-loss.ts';
import { relocation } from './relocation.ts';
import type { Condition, PledgeFacts, Rule } from './types.ts';

export const RULES: Readonly<Record<AlertType, Rule>> = {
  QUANTITY_LOSS: quantityLoss,
  RELOCATION: relocation,
  DAMAGE: damage,
  MONITORING_GAP: monitoringGap,
  LTV_WARNING: ltvAlert('warning'),
  MARGIN_CALL: ltvAlert('margin_call'),
  LIQUIDATION: ltvAlert('liquidation'),
  PRICE_STALE: priceStale,
};

/** Every condition that holds for a pledge now, whatever rule finds it. */
export function evaluateRules(facts: PledgeFacts): Condition[] {
  return Object.values(RULES).flatMap((rule) => rule(facts));
}

export { ruleConfig, DEFAULT_RULE_SETTINGS, RuleSettings, type RuleConfig, type RuleSettingsT } from './config.ts';
export type { Condition, PledgeFacts, Rule } from './types.ts';
