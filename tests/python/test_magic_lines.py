"""prov takes a magic line out of a cell only where IPython would see a magic: text inside a
string or brackets that happens to read `%trials` is the user's and runs unchanged, exactly as
plain ipykernel runs it. The same test passes against `PROV_TEST_KERNEL=python3`."""

from __future__ import annotations

from conftest import IS_PROV, magic_answer


def test_a_magic_inside_a_string_is_the_users_text(kernel):
    code = 's = """\n%trials\n%tags\n"""\nprint(repr(s))'
    assert kernel.run(code).strip() == repr("\n%trials\n%tags\n")


def test_a_real_magic_line_after_a_string_is_still_answered(kernel):
    if not IS_PROV:
        return
    reply, outputs = kernel.execute('s = """\n%trials\n"""\n%trials\nprint(len(s))')
    assert reply["content"]["status"] == "ok", reply["content"]
    printed = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
    assert printed.strip() == "9"
    assert "trial" in magic_answer(outputs)["text/plain"].lower()
