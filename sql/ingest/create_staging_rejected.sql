CREATE TEMP TABLE staging_rejected (
    line_number bigint,
    reason      text,
    raw_line    text
) ON COMMIT DROP;
