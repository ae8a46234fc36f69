-- What decided each stance (`Stance.method`): a holder's stance (holder-stance model, stance
-- predicate, or neutral for lack of evidence against the holder's own side) or the text's
-- portrayal of the target. 0 for rows written before the field existed.
ALTER TABLE stances ADD COLUMN method smallint NOT NULL DEFAULT 0;
