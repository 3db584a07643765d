-- A lean store rewritten as the schema before it kept the same facts (for tests of stores
-- written before it): `dataflow_versions` and `captured_values` as tables holding every row
-- (the views' rows, the `current` flag included), no table of the lean store, no `trials.user_name`, user_version 7.
-- Notes stored deflated stay so: rewrite them as text first where a test has any.
CREATE TABLE old_versions (
    trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    version INTEGER NOT NULL, name TEXT NOT NULL, symbol TEXT NOT NULL,
    execution_id INTEGER NOT NULL, statement INTEGER NOT NULL, kind TEXT NOT NULL,
    current INTEGER NOT NULL, PRIMARY KEY (trial_id, version)) WITHOUT ROWID;
INSERT INTO old_versions SELECT * FROM dataflow_versions;
DROP VIEW dataflow_versions;
DROP TABLE version_rows;
ALTER TABLE old_versions RENAME TO dataflow_versions;
CREATE INDEX dataflow_versions_by_name ON dataflow_versions (trial_id, name);
CREATE INDEX dataflow_versions_current ON dataflow_versions (trial_id, name)
    WHERE current = 1;
DROP TABLE current_versions; DROP TABLE execution_version_sets;
DROP TABLE version_set_members; DROP TABLE version_sets;
CREATE TABLE old_values (
    id INTEGER PRIMARY KEY,
    execution_id INTEGER NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    name TEXT NOT NULL, type_name TEXT NOT NULL, value_json TEXT, summary_json TEXT,
    fingerprint_json TEXT);
INSERT INTO old_values (execution_id, name, type_name, value_json, summary_json,
                        fingerprint_json)
    SELECT execution_id, name, type_name, value_json, summary_json, fingerprint_json
    FROM captured_values ORDER BY execution_id, id;
DROP VIEW captured_values;
DROP TABLE captured_value_rows;
ALTER TABLE old_values RENAME TO captured_values;
CREATE INDEX captured_values_by_execution ON captured_values (execution_id);
CREATE INDEX captured_values_by_name ON captured_values (name);
DROP TABLE execution_value_sets; DROP TABLE value_set_members; DROP TABLE value_sets;
-- Trials' user (a later migration) is not part of that schema either.
ALTER TABLE trials DROP COLUMN user_name;
PRAGMA user_version = 7;
