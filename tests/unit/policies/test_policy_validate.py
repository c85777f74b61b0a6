"""Each kind of mistake in a role document is reported with its file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from accessctl.policies.problems import WHOLE_FILE, Problem
from accessctl.policies.validate import validate_policy_dir

Edit = Callable[[str, str, str], int]
Line = Callable[[str, str], int]

GP = "roles/fastlege.lege.yaml"


def only_problem(policy_dir: Path) -> Problem:
    problems = validate_policy_dir(policy_dir)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_committed_role_documents_are_valid(policy_dir: Path) -> None:
    assert validate_policy_dir(policy_dir) == []


def test_yaml_syntax_error_is_reported_with_its_line(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "owner: gp_office\n", "owner: [gp_office\n")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.field) == (GP, WHOLE_FILE)
    assert "YAML syntax error" in problem.message
    assert problem.line >= line


def test_unknown_service_is_reported_with_file_line_and_field(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "services: [fastlege]\n", "services: [fastlege, tannlege]\n")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, line, "services[1]")
    assert "unknown service 'tannlege'" in problem.message


def test_unknown_resource_type_is_reported_with_file_line_and_field(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "resource_type: journal.vaccination", "resource_type: journal.vaccine")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, line, "permissions[4].resource_type")
    assert "unknown resource type 'journal.vaccine'" in problem.message


def test_action_not_valid_for_the_resource_type_is_reported_with_the_valid_ones(
    policy_dir: Path,
    edit_policy: Edit,
) -> None:
    line = edit_policy(
        GP,
        "actions: [read, write, sign], scope: care_relation}",
        "actions: [read, print], scope: care_relation}",
    )
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, line, "permissions[4].actions[1]")
    assert "unknown action 'print' for 'journal.vaccination'" in problem.message
    assert "read, sign, write" in problem.message


def test_bad_scope_is_reported_with_the_allowed_scopes(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "actions: [view], scope: unit}", "actions: [view], scope: ward}")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, line, "permissions[10].scope")
    assert "'ward'" in problem.message
    assert "care_relation" in problem.message
    assert "unit_subtree" in problem.message


def test_care_relation_scope_on_data_that_is_not_about_a_patient_is_reported(
    policy_dir: Path, edit_policy: Edit
) -> None:
    line = edit_policy(GP, "actions: [view], scope: unit}", "actions: [view], scope: care_relation}")
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "permissions[10].scope")
    assert "not patient-bound" in problem.message


def test_duplicate_role_id_is_reported_in_the_second_file(policy_dir: Path) -> None:
    (policy_dir / "roles/zz-copy.yaml").write_text((policy_dir / GP).read_text(encoding="utf-8"), encoding="utf-8")
    problems = validate_policy_dir(policy_dir)
    duplicate = [p for p in problems if "duplicate role id" in p.message]
    assert [(p.file, p.line, p.field) for p in duplicate] == [("roles/zz-copy.yaml", 1, "id")]
    assert GP in duplicate[0].message


def test_role_id_must_match_its_file_name(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(GP, "id: fastlege.lege\n", "id: fastlege.allmennlege\n")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, 1, "id")
    assert "roles/fastlege.allmennlege.yaml" in problem.message


def test_missing_required_field_is_reported_by_name(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(GP, "change_note:", "# change_note:")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, 1, "change_note")
    assert problem.message == "required field is missing"


def test_missing_field_inside_a_permission_names_the_permission_line(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "actions: [view], scope: unit}", "actions: [view]}")
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "permissions[10].scope")


def test_wrong_type_is_reported_with_what_was_expected(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(
        GP,
        "break_glass: {allowed: true, max_minutes: 120}",
        "break_glass: {allowed: true, max_minutes: two hours}",
    )
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "break_glass.max_minutes")
    assert "Expected `int`, got `str`" in problem.message


def test_unquoted_position_code_is_reported_with_a_hint(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, 'positions: ["7002", "7003"]', 'positions: [7002, "7003"]')
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "assign[0].positions[0]")
    assert "quote it" in problem.message


def test_unknown_field_is_reported_with_the_fields_expected(
    policy_dir: Path, edit_policy: Edit, policy_line: Line
) -> None:
    edit_policy(GP, "owner: gp_office\n", "owner: gp_office\napprover: Kari Nordmann\n")
    problem = only_problem(policy_dir)
    assert (problem.field, problem.line) == ("approver", policy_line(GP, "approver:"))
    assert "unknown field" in problem.message
    assert "break_glass" in problem.message


def test_key_given_twice_is_reported(policy_dir: Path, edit_policy: Edit, policy_line: Line) -> None:
    edit_policy(GP, "owner: gp_office\n", "owner: gp_office\nowner: regional\n")
    problem = only_problem(policy_dir)
    assert (problem.field, problem.line) == ("owner", policy_line(GP, "owner: regional"))
    assert "twice" in problem.message


def test_unknown_position_code_is_reported_with_file_line_and_field(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, 'positions: ["7002", "7003"]', 'positions: ["7002", "9999"]')
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line, problem.field) == (GP, line, "assign[0].positions[1]")
    assert "unknown position code '9999'" in problem.message


def test_two_roles_giving_one_position_in_the_same_service_conflict(
    policy_dir: Path, edit_policy: Edit, policy_line: Line
) -> None:
    # fastlege.sykepleier gives 7010 in fastlege; giving 7010 there to the GP role too is ambiguous.
    line = edit_policy(GP, 'positions: ["7002", "7003"]', 'positions: ["7002", "7003", "7010"]')
    nurse = "roles/fastlege.sykepleier.yaml"
    nurse_line = policy_line(nurse, '"7010"')
    problems = validate_policy_dir(policy_dir)
    assert [(p.file, p.line, p.field) for p in problems] == [
        (GP, line, "assign[0].positions[2]"),
        (nurse, nurse_line, "assign[0].positions[0]"),
    ]
    assert f"'fastlege.sykepleier' ({nurse}:{nurse_line})" in problems[0].message
    assert f"'fastlege.lege' ({GP}:{line})" in problems[1].message
    assert all("position 7010 in fastlege" in p.message and "additive" in p.message for p in problems)


def test_a_rule_for_every_service_conflicts_with_a_rule_for_one_service(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy("roles/leder.enhet.yaml", '  - positions: ["7051"]\n    additive: true\n', '  - positions: ["7051"]\n')
    problems = validate_policy_dir(policy_dir)
    in_leader_role = {p.message.split("'")[1] for p in problems if p.file == "roles/leder.enhet.yaml"}
    assert in_leader_role == {
        "hjemmetjeneste.sykepleier",
        "legevakt.sykepleier",
        "sykehjem.sykepleier",
        "sykehus.sykepleier",
    }
    assert all("position 7051 in every service" in p.message for p in problems)


def test_an_additive_rule_does_not_conflict(policy_dir: Path, edit_policy: Edit) -> None:
    rule = '  - positions: ["7002", "7003"]\n    services: [fastlege]\n'
    additive = '  - positions: ["7010"]\n    services: [fastlege]\n    additive: true\n'
    edit_policy(GP, rule, rule + additive)
    assert validate_policy_dir(policy_dir) == []


def test_break_glass_minutes_above_the_limit_are_reported(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "max_minutes: 120", "max_minutes: 2000")
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "break_glass.max_minutes")
    assert "<= 720" in problem.message


def test_break_glass_allowed_without_minutes_is_reported(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "break_glass: {allowed: true, max_minutes: 120}", "break_glass: {allowed: true}")
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "break_glass.max_minutes")
    assert "expected 1 to 720" in problem.message


def test_shielded_services_must_be_shielded(policy_dir: Path, edit_policy: Edit, policy_line: Line) -> None:
    edit_policy(GP, "change_note:", "shielded_services: [fastlege]\nchange_note:")
    problem = only_problem(policy_dir)
    assert (problem.field, problem.line) == (
        "shielded_services[0]",
        policy_line(GP, "shielded_services"),
    )
    assert "not shielded" in problem.message


def test_rule_service_outside_the_role_services_is_reported(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(GP, "    services: [fastlege]\n", "    services: [fastlege, smittevern]\n")
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line, "assign[0].services[1]")


def test_role_id_with_a_comma_is_refused_before_it_reaches_casbin(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(GP, "id: fastlege.lege\n", 'id: "fastlege,lege"\n')
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (1, "id")
    assert "regex" in problem.message


def test_granting_the_same_action_twice_is_reported(policy_dir: Path, edit_policy: Edit) -> None:
    line = edit_policy(
        GP,
        "actions: [view], scope: unit}",
        "actions: [view, export], scope: unit}\n"
        "  - {resource_type: report.activity, actions: [view], scope: unit_subtree}",
    )
    problem = only_problem(policy_dir)
    assert (problem.line, problem.field) == (line + 1, "permissions[11].actions[0]")
    assert "granted twice" in problem.message


def test_owner_organisation_number_with_a_bad_check_digit_is_reported(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(GP, "owner: gp_office", "owner: '123456780'")
    problem = only_problem(policy_dir)
    assert problem.field == "owner"
    assert "mod-11" in problem.message


def test_owner_organisation_number_with_a_good_check_digit_is_accepted(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(GP, "owner: gp_office", "owner: '123456785'")
    assert validate_policy_dir(policy_dir) == []


def test_problems_in_several_files_are_all_reported(policy_dir: Path, edit_policy: Edit) -> None:
    edit_policy(GP, "services: [fastlege]\n", "services: [fastlege, tannlege]\n")
    edit_policy("roles/sykehus.lege.yaml", "scope: care_relation}", "scope: ward}")
    edit_policy("resource-types.yaml", "patient_bound: true", "patient_bound: maybe")
    # A broken catalogue is reported once; the role documents are not all reported against it.
    files = sorted({p.file for p in validate_policy_dir(policy_dir)})
    assert files == ["resource-types.yaml", GP, "roles/sykehus.lege.yaml"]


def test_missing_catalogue_file_is_reported(policy_dir: Path) -> None:
    (policy_dir / "positions.yaml").unlink()
    problems = validate_policy_dir(policy_dir)
    assert Problem("positions.yaml", 1, WHOLE_FILE, "file not found") in problems


def test_empty_role_document_is_reported(policy_dir: Path) -> None:
    (policy_dir / GP).write_text("", encoding="utf-8")
    problem = only_problem(policy_dir)
    assert (problem.file, problem.line) == (GP, 1)
    assert "Expected `object`, got `null`" in problem.message
