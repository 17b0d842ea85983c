//! Schlussabrechnung: the settlement of a grant once its proof of use (Verwendungsnachweis) has been reviewed. From
//! the expenditure the reviewer admitted per line of the financing plan and the other income actually received, it
//! works out what the grant finally comes to and how that compares with what was paid out.
//!
//! The rules follow ANBest-P Nr. 1.2 (a plan line may be exceeded by up to 20 % where savings in other lines cover
//! it) and Nr. 2 (how the grant shrinks under each financing type). The tolerance is an input: Hessen's own figure
//! was not available, so it is a setting with the Bund's default. Money is integer cents, rates are basis points,
//! every product is taken in `i128`, and every rounding is down, in the state's favour.

/// Finanzierungsart: how the grant relates to the project's costs, as the notice states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinancingType {
    /// Anteilsfinanzierung: a share (the notice's rate) of the eligible expenditure.
    Anteil,
    /// Fehlbedarfsfinanzierung: the gap the recipient's own and third-party funds leave.
    Fehlbedarf,
    /// Festbetragsfinanzierung: a fixed amount.
    Festbetrag,
}

/// 100 % in basis points.
const FULL_BP: i128 = 10_000;

/// ANBest-P Nr. 1.2 (Bund): a plan line may exceed its planned amount by up to 20 % where savings elsewhere cover it.
pub const DEFAULT_TOLERANCE_BP: i32 = 2000;

/// One line of the financing plan with the expenditure the reviewer admitted for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    /// The line's key in the financing plan (`staff`, `equipment`...).
    pub key: String,
    pub planned_cents: i64,
    /// Expenditure admitted in the review of the proof of use (receipts admitted in full or in part).
    pub admitted_cents: i64,
}

/// What the settlement needs: the notice's terms, the plan with the admitted expenditure, and the money so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementInput {
    pub financing: FinancingType,
    /// The amount of the notice.
    pub granted_cents: i64,
    /// The notice's rate, basis points (10000 = 100 %); only Anteilsfinanzierung uses it.
    pub rate_bp: i32,
    pub lines: Vec<PlanLine>,
    /// Own and third-party funds in the financing plan.
    pub planned_other_income_cents: i64,
    /// Own and third-party funds actually received.
    pub actual_other_income_cents: i64,
    /// How far a line may exceed its planned amount, basis points ([`DEFAULT_TOLERANCE_BP`] unless the notice says
    /// otherwise).
    pub tolerance_bp: i32,
    /// Paid out so far.
    pub paid_cents: i64,
}

/// The part of a line's admitted expenditure above its planned amount plus the tolerance: never eligible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEligible {
    pub key: String,
    pub cents: i64,
}

/// Why the grant came to less than the notice's amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReductionReason {
    /// The grant is due in full.
    None,
    /// Less eligible expenditure than the notice assumed.
    LowerExpenditure,
    /// More own or third-party funds than planned.
    HigherOtherIncome,
    /// Both of the above.
    LowerExpenditureAndHigherOtherIncome,
}

impl ReductionReason {
    /// A stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            ReductionReason::None => "none",
            ReductionReason::LowerExpenditure => "lower_expenditure",
            ReductionReason::HigherOtherIncome => "higher_other_income",
            ReductionReason::LowerExpenditureAndHigherOtherIncome => "lower_expenditure_and_higher_other_income",
        }
    }
}

/// The result of the settlement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    /// Zuwendungsfähige Ausgaben after the caps and the cover by savings.
    pub eligible_cents: i64,
    /// Lines whose admitted expenditure exceeds planned + tolerance, with the excess (in the plan's order; lines
    /// without excess are left out).
    pub not_eligible: Vec<NotEligible>,
    /// Overruns within the tolerance that savings in other lines do not cover (not eligible either, but not of one
    /// line): Σ admitted = eligible + Σ not_eligible + this.
    pub uncovered_overrun_cents: i64,
    /// What the grant finally comes to.
    pub due_cents: i64,
    /// granted − due.
    pub reduction_cents: i64,
    pub reason: ReductionReason,
    /// Paid beyond what is due: to be reclaimed.
    pub overpaid_cents: i64,
    /// Due and not yet paid: still to pay.
    pub outstanding_cents: i64,
}

/// Why a settlement cannot be computed from its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettlementError {
    /// An amount is negative (the field's name).
    NegativeAmount(&'static str),
    /// The rate is not between 0 and 10000 basis points.
    RateOutOfRange,
    /// The tolerance is not between 0 and 10000 basis points.
    ToleranceOutOfRange,
    /// The plan's amounts add up beyond what cents in an `i64` can hold.
    TooLarge,
}

/// Settles a grant: the eligible expenditure, what is due under the financing type, and the balance against what
/// was paid.
pub fn settle(input: &SettlementInput) -> Result<Settlement, SettlementError> {
    validate(input)?;
    let tolerance = i128::from(input.tolerance_bp);

    let mut planned_total: i128 = 0;
    let mut counted_total: i128 = 0;
    let mut admitted_total: i128 = 0;
    let mut not_eligible = Vec::new();
    for line in &input.lines {
        let planned = i128::from(line.planned_cents);
        let admitted = i128::from(line.admitted_cents);
        // Rounded down: a line may exceed its plan by at most the tolerance, never by a fraction of a cent more.
        let cap = planned * (FULL_BP + tolerance) / FULL_BP;
        let counted = admitted.min(cap);
        if admitted > cap {
            not_eligible.push(NotEligible {
                key: line.key.clone(),
                cents: to_cents(admitted - cap)?,
            });
        }
        planned_total += planned;
        counted_total += counted;
        admitted_total += admitted;
    }
    // Overruns within the tolerance count only as far as savings in other lines cover them: the plan's total is
    // the ceiling of the whole.
    let eligible = counted_total.min(planned_total);
    let uncovered_overrun = counted_total - eligible;
    debug_assert_eq!(
        admitted_total,
        eligible + uncovered_overrun + not_eligible.iter().map(|n| i128::from(n.cents)).sum::<i128>()
    );

    let granted = i128::from(input.granted_cents);
    let planned_other = i128::from(input.planned_other_income_cents);
    let actual_other = i128::from(input.actual_other_income_cents);
    // What is due for given expenditure and other income; the reason compares it with the other income as planned.
    let due_for = |eligible: i128, other: i128| -> i128 {
        let due = match input.financing {
            // Less other income than planned does not raise the grant: only the excess counts.
            FinancingType::Anteil => i128::from(input.rate_bp) * (eligible - (other - planned_other).max(0)) / FULL_BP,
            FinancingType::Fehlbedarf => eligible - other,
            // Other income does not touch a fixed amount.
            FinancingType::Festbetrag => eligible,
        };
        due.clamp(0, granted)
    };
    let due = due_for(eligible, actual_other);
    let due_with_planned_income = due_for(eligible, planned_other);
    let by_expenditure = due_with_planned_income < granted;
    let by_income = due < due_with_planned_income;
    let reason = match (by_expenditure, by_income) {
        (false, false) => ReductionReason::None,
        (true, false) => ReductionReason::LowerExpenditure,
        (false, true) => ReductionReason::HigherOtherIncome,
        (true, true) => ReductionReason::LowerExpenditureAndHigherOtherIncome,
    };

    let paid = i128::from(input.paid_cents);
    Ok(Settlement {
        eligible_cents: to_cents(eligible)?,
        not_eligible,
        uncovered_overrun_cents: to_cents(uncovered_overrun)?,
        due_cents: to_cents(due)?,
        reduction_cents: to_cents(granted - due)?,
        reason,
        overpaid_cents: to_cents((paid - due).max(0))?,
        outstanding_cents: to_cents((due - paid).max(0))?,
    })
}

fn validate(input: &SettlementInput) -> Result<(), SettlementError> {
    let amounts = [
        ("granted_cents", input.granted_cents),
        ("planned_other_income_cents", input.planned_other_income_cents),
        ("actual_other_income_cents", input.actual_other_income_cents),
        ("paid_cents", input.paid_cents),
    ];
    if let Some((name, _)) = amounts.iter().find(|(_, v)| *v < 0) {
        return Err(SettlementError::NegativeAmount(name));
    }
    for line in &input.lines {
        if line.planned_cents < 0 {
            return Err(SettlementError::NegativeAmount("planned_cents"));
        }
        if line.admitted_cents < 0 {
            return Err(SettlementError::NegativeAmount("admitted_cents"));
        }
    }
    if !(0..=10_000).contains(&input.rate_bp) {
        return Err(SettlementError::RateOutOfRange);
    }
    if !(0..=10_000).contains(&input.tolerance_bp) {
        return Err(SettlementError::ToleranceOutOfRange);
    }
    Ok(())
}

fn to_cents(v: i128) -> Result<i64, SettlementError> {
    i64::try_from(v).map_err(|_| SettlementError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &str, planned_cents: i64, admitted_cents: i64) -> PlanLine {
        PlanLine {
            key: key.into(),
            planned_cents,
            admitted_cents,
        }
    }

    fn excess(key: &str, cents: i64) -> NotEligible {
        NotEligible { key: key.into(), cents }
    }

    /// A project of 75,000.00 € funded at 80 % (60,000.00 €) with 15,000.00 € own funds.
    fn anteil(lines: Vec<PlanLine>, actual_other: i64, paid: i64) -> SettlementInput {
        SettlementInput {
            financing: FinancingType::Anteil,
            granted_cents: 6_000_000,
            rate_bp: 8000,
            lines,
            planned_other_income_cents: 1_500_000,
            actual_other_income_cents: actual_other,
            tolerance_bp: DEFAULT_TOLERANCE_BP,
            paid_cents: paid,
        }
    }

    /// A practice building of 114,000.00 €: 34,000.00 € own and third-party funds, 80,000.00 € grant for the gap.
    fn fehlbedarf(lines: Vec<PlanLine>, actual_other: i64, paid: i64) -> SettlementInput {
        SettlementInput {
            financing: FinancingType::Fehlbedarf,
            granted_cents: 8_000_000,
            rate_bp: 0,
            lines,
            planned_other_income_cents: 3_400_000,
            actual_other_income_cents: actual_other,
            tolerance_bp: DEFAULT_TOLERANCE_BP,
            paid_cents: paid,
        }
    }

    /// A fixed 25,000.00 € towards a plan of 40,000.00 €.
    fn festbetrag(lines: Vec<PlanLine>, actual_other: i64, paid: i64) -> SettlementInput {
        SettlementInput {
            financing: FinancingType::Festbetrag,
            granted_cents: 2_500_000,
            rate_bp: 0,
            lines,
            planned_other_income_cents: 1_500_000,
            actual_other_income_cents: actual_other,
            tolerance_bp: DEFAULT_TOLERANCE_BP,
            paid_cents: paid,
        }
    }

    #[test]
    fn anteil_lower_expenditure_with_caps_and_an_overpayment() {
        // staff:     planned 50,000.00, admitted 45,000.00 → counts 45,000.00 (a saving of 5,000.00)
        // equipment: planned 20,000.00, admitted 23,000.00 → +15 %, cap 20,000.00 × 1.2 = 24,000.00, counts 23,000.00
        // travel:    planned  5,000.00, admitted  7,000.00 → +40 %, cap  5,000.00 × 1.2 =  6,000.00, counts 6,000.00,
        //            1,000.00 not eligible
        // Σ counted = 45,000 + 23,000 + 6,000 = 74,000.00 ≤ Σ planned 75,000.00: the savings cover the overruns,
        // eligible = 74,000.00.
        // Own funds as planned: due = min(60,000.00, 80 % × 74,000.00 = 59,200.00) = 59,200.00.
        // Paid 60,000.00: 800.00 overpaid.
        let input = anteil(
            vec![
                line("staff", 5_000_000, 4_500_000),
                line("equipment", 2_000_000, 2_300_000),
                line("travel", 500_000, 700_000),
            ],
            1_500_000,
            6_000_000,
        );
        let s = settle(&input).unwrap();
        assert_eq!(s.eligible_cents, 7_400_000);
        assert_eq!(s.not_eligible, vec![excess("travel", 100_000)]);
        assert_eq!(s.uncovered_overrun_cents, 0);
        assert_eq!(s.due_cents, 5_920_000);
        assert_eq!(s.reduction_cents, 80_000);
        assert_eq!(s.reason, ReductionReason::LowerExpenditure);
        assert_eq!(s.reason.code(), "lower_expenditure");
        assert_eq!(s.overpaid_cents, 80_000);
        assert_eq!(s.outstanding_cents, 0);
    }

    #[test]
    fn anteil_higher_other_income() {
        // Every line as planned: eligible = 75,000.00.
        // Own + third-party funds 20,000.00 instead of 15,000.00: 5,000.00 more.
        // due = min(60,000.00, 80 % × (75,000.00 − 5,000.00) = 56,000.00) = 56,000.00; reduction 4,000.00.
        // Paid 40,000.00: 16,000.00 still to pay.
        let input = anteil(
            vec![
                line("staff", 5_000_000, 5_000_000),
                line("equipment", 2_500_000, 2_500_000),
            ],
            2_000_000,
            4_000_000,
        );
        let s = settle(&input).unwrap();
        assert_eq!(s.eligible_cents, 7_500_000);
        assert!(s.not_eligible.is_empty());
        assert_eq!(s.due_cents, 5_600_000);
        assert_eq!(s.reduction_cents, 400_000);
        assert_eq!(s.reason.code(), "higher_other_income");
        assert_eq!(s.overpaid_cents, 0);
        assert_eq!(s.outstanding_cents, 1_600_000);
    }

    #[test]
    fn anteil_both_reasons_and_less_other_income_does_not_raise_the_grant() {
        // staff 50,000.00 → 47,000.00 admitted, equipment 25,000.00 as planned: eligible 72,000.00.
        // Other income 16,000.00 (1,000.00 more than planned):
        // due = 80 % × (72,000.00 − 1,000.00) = 56,800.00. With income as planned it would be 57,600.00 < 60,000.00,
        // so both reasons apply.
        let lines = vec![
            line("staff", 5_000_000, 4_700_000),
            line("equipment", 2_500_000, 2_500_000),
        ];
        let s = settle(&anteil(lines.clone(), 1_600_000, 0)).unwrap();
        assert_eq!(s.due_cents, 5_680_000);
        assert_eq!(s.reason, ReductionReason::LowerExpenditureAndHigherOtherIncome);
        assert_eq!(s.outstanding_cents, 5_680_000);
        // Only 10,000.00 other income (5,000.00 less than planned): max(0, 10,000 − 15,000) = 0 is deducted,
        // due = 80 % × 72,000.00 = 57,600.00.
        let s = settle(&anteil(lines, 1_000_000, 0)).unwrap();
        assert_eq!(s.due_cents, 5_760_000);
        assert_eq!(s.reason, ReductionReason::LowerExpenditure);
    }

    #[test]
    fn anteil_rounds_down() {
        // Rate 33.33 %, plan 10,001.00 €: granted = ⌊0.3333 × 1,000,100⌋ = ⌊333,333.33⌋ = 333,333 cents.
        // Admitted 10,000.01 €: due = ⌊0.3333 × 1,000,001⌋ = ⌊333,300.3333⌋ = 333,300 cents; reduction 33 cents.
        let input = SettlementInput {
            financing: FinancingType::Anteil,
            granted_cents: 333_333,
            rate_bp: 3333,
            lines: vec![line("all", 1_000_100, 1_000_001)],
            planned_other_income_cents: 666_767,
            actual_other_income_cents: 666_767,
            tolerance_bp: DEFAULT_TOLERANCE_BP,
            paid_cents: 333_333,
        };
        let s = settle(&input).unwrap();
        assert_eq!(s.due_cents, 333_300);
        assert_eq!(s.reduction_cents, 33);
        assert_eq!(s.overpaid_cents, 33);
    }

    #[test]
    fn overrun_within_the_tolerance_without_savings_to_cover_it() {
        // a: planned 10,000.00, admitted 10,000.00; b: planned 10,000.00, admitted 11,500.00 (+15 %, within 20 %).
        // Σ counted 21,500.00 > Σ planned 20,000.00: no savings cover b's overrun, eligible = 20,000.00 and
        // 1,500.00 stays uncovered (of no single line: b is within its cap).
        // Rate 50 %, granted 10,000.00: due = min(10,000.00, 50 % × 20,000.00) = 10,000.00, no reduction.
        let input = SettlementInput {
            financing: FinancingType::Anteil,
            granted_cents: 1_000_000,
            rate_bp: 5000,
            lines: vec![line("a", 1_000_000, 1_000_000), line("b", 1_000_000, 1_150_000)],
            planned_other_income_cents: 1_000_000,
            actual_other_income_cents: 1_000_000,
            tolerance_bp: DEFAULT_TOLERANCE_BP,
            paid_cents: 1_000_000,
        };
        let s = settle(&input).unwrap();
        assert_eq!(s.eligible_cents, 2_000_000);
        assert!(s.not_eligible.is_empty());
        assert_eq!(s.uncovered_overrun_cents, 150_000);
        assert_eq!(s.due_cents, 1_000_000);
        assert_eq!(s.reason.code(), "none");
        assert_eq!((s.overpaid_cents, s.outstanding_cents), (0, 0));
    }

    #[test]
    fn the_cap_is_rounded_down_and_the_tolerance_is_an_input() {
        // planned 0.99 €: cap = ⌊99 × 1.2⌋ = ⌊118.8⌋ = 118 cents; admitted 1.19 € → 1 cent not eligible.
        // With a tolerance of 0 the cap is the plan itself: 20 cents not eligible.
        let mut input = anteil(vec![line("x", 99, 119), line("y", 1_000, 0)], 1_500_000, 0);
        let s = settle(&input).unwrap();
        assert_eq!(s.not_eligible, vec![excess("x", 1)]);
        assert_eq!(s.eligible_cents, 118);
        input.tolerance_bp = 0;
        let s = settle(&input).unwrap();
        assert_eq!(s.not_eligible, vec![excess("x", 20)]);
        assert_eq!(s.eligible_cents, 99);
    }

    #[test]
    fn fehlbedarf_lower_expenditure_by_the_full_amount_and_an_overpayment() {
        // construction: planned 100,000.00, admitted 90,000.00 → counts 90,000.00 (a saving of 10,000.00)
        // planning:     planned  10,000.00, admitted 11,500.00 → +15 %, cap 12,000.00, counts 11,500.00
        // furniture:    planned   4,000.00, admitted  5,600.00 → +40 %, cap 4,800.00, counts 4,800.00, 800.00 not
        //               eligible
        // Σ counted = 90,000 + 11,500 + 4,800 = 106,300.00 ≤ Σ planned 114,000.00: eligible = 106,300.00.
        // Other income as planned (34,000.00): due = min(80,000.00, 106,300.00 − 34,000.00 = 72,300.00) = 72,300.00.
        // The grant shrinks by the whole shortfall of 7,700.00 (114,000.00 − 106,300.00), not by a share of it.
        // Paid 80,000.00: 7,700.00 overpaid.
        let input = fehlbedarf(
            vec![
                line("construction", 10_000_000, 9_000_000),
                line("planning", 1_000_000, 1_150_000),
                line("furniture", 400_000, 560_000),
            ],
            3_400_000,
            8_000_000,
        );
        let s = settle(&input).unwrap();
        assert_eq!(s.eligible_cents, 10_630_000);
        assert_eq!(s.not_eligible, vec![excess("furniture", 80_000)]);
        assert_eq!(s.due_cents, 7_230_000);
        assert_eq!(s.reduction_cents, 770_000);
        assert_eq!(s.reason.code(), "lower_expenditure");
        assert_eq!(s.overpaid_cents, 770_000);
        assert_eq!(s.outstanding_cents, 0);
    }

    #[test]
    fn fehlbedarf_higher_other_income() {
        // Every line as planned: eligible 114,000.00. Other income 39,000.00 instead of 34,000.00:
        // due = min(80,000.00, 114,000.00 − 39,000.00 = 75,000.00) = 75,000.00; reduction 5,000.00.
        // Paid 50,000.00: 25,000.00 still to pay.
        let lines = vec![
            line("construction", 10_000_000, 10_000_000),
            line("planning", 1_400_000, 1_400_000),
        ];
        let s = settle(&fehlbedarf(lines, 3_900_000, 5_000_000)).unwrap();
        assert_eq!(s.eligible_cents, 11_400_000);
        assert_eq!(s.due_cents, 7_500_000);
        assert_eq!(s.reduction_cents, 500_000);
        assert_eq!(s.reason, ReductionReason::HigherOtherIncome);
        assert_eq!(s.outstanding_cents, 2_500_000);
        assert_eq!(s.overpaid_cents, 0);
    }

    #[test]
    fn fehlbedarf_never_below_zero_nor_above_the_grant() {
        // Other income 120,000.00 > eligible 114,000.00: due = max(0, −6,000.00) = 0, all 80,000.00 paid reclaimed.
        let lines = vec![line("construction", 11_400_000, 11_400_000)];
        let s = settle(&fehlbedarf(lines.clone(), 12_000_000, 8_000_000)).unwrap();
        assert_eq!(s.due_cents, 0);
        assert_eq!(s.reduction_cents, 8_000_000);
        assert_eq!(s.overpaid_cents, 8_000_000);
        // Other income 30,000.00, less than planned: the gap is 84,000.00 but the grant stays at most 80,000.00.
        let s = settle(&fehlbedarf(lines, 3_000_000, 0)).unwrap();
        assert_eq!(s.due_cents, 8_000_000);
        assert_eq!(s.reason.code(), "none");
    }

    #[test]
    fn festbetrag_stays_fixed_above_the_amount() {
        // Plan 40,000.00; admitted 30,000.00 (savings) with less and more other income than planned: eligible
        // 30,000.00 ≥ 25,000.00, so the fixed 25,000.00 stays due whatever the other income.
        for other in [500_000, 3_000_000] {
            let lines = vec![line("staff", 3_000_000, 2_000_000), line("rent", 1_000_000, 1_000_000)];
            let s = settle(&festbetrag(lines, other, 2_500_000)).unwrap();
            assert_eq!(s.eligible_cents, 3_000_000);
            assert_eq!(s.due_cents, 2_500_000);
            assert_eq!(s.reduction_cents, 0);
            assert_eq!(s.reason, ReductionReason::None);
            assert_eq!((s.overpaid_cents, s.outstanding_cents), (0, 0));
        }
    }

    #[test]
    fn festbetrag_below_the_amount_with_a_line_over_the_tolerance() {
        // staff: planned 30,000.00, admitted  9,000.00 → counts 9,000.00
        // rent:  planned 10,000.00, admitted 15,000.00 → +50 %, cap 12,000.00, counts 12,000.00, 3,000.00 not eligible
        // Σ counted = 9,000 + 12,000 = 21,000.00 ≤ Σ planned 40,000.00: eligible 21,000.00, below the fixed 25,000.00.
        // due = eligible = 21,000.00; reduction 4,000.00. Paid 25,000.00: 4,000.00 overpaid.
        let lines = vec![line("staff", 3_000_000, 900_000), line("rent", 1_000_000, 1_500_000)];
        let s = settle(&festbetrag(lines, 1_500_000, 2_500_000)).unwrap();
        assert_eq!(s.eligible_cents, 2_100_000);
        assert_eq!(s.not_eligible, vec![excess("rent", 300_000)]);
        assert_eq!(s.due_cents, 2_100_000);
        assert_eq!(s.reduction_cents, 400_000);
        assert_eq!(s.reason.code(), "lower_expenditure");
        assert_eq!(s.overpaid_cents, 400_000);
        assert_eq!(s.outstanding_cents, 0);
    }

    #[test]
    fn refuses_input_it_cannot_settle() {
        let ok = anteil(vec![line("a", 100, 100)], 0, 0);
        assert!(settle(&ok).is_ok());
        let mut bad = ok.clone();
        bad.paid_cents = -1;
        assert_eq!(settle(&bad), Err(SettlementError::NegativeAmount("paid_cents")));
        let mut bad = ok.clone();
        bad.lines[0].admitted_cents = -1;
        assert_eq!(settle(&bad), Err(SettlementError::NegativeAmount("admitted_cents")));
        let mut bad = ok.clone();
        bad.rate_bp = 10_001;
        assert_eq!(settle(&bad), Err(SettlementError::RateOutOfRange));
        let mut bad = ok.clone();
        bad.tolerance_bp = -1;
        assert_eq!(settle(&bad), Err(SettlementError::ToleranceOutOfRange));
        let mut bad = ok;
        bad.lines = vec![line("a", i64::MAX, i64::MAX), line("b", i64::MAX, i64::MAX)];
        assert_eq!(settle(&bad), Err(SettlementError::TooLarge));
    }
}
