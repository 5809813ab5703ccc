"""Invoice domain: state machine, line items, tax, proration, currency, credit notes, dunning."""
