"""The accessibility statement: what is tested, what falls short, and how to report a problem."""


def test_the_statement_says_what_is_tested_and_how_to_report_a_problem(client, event):
    response = client.get("/accessibility")
    assert response.status_code == 200
    page = response.text
    assert "<h1>Accessibility statement</h1>" in page
    assert "WCAG) 2.2 at level AA" in page
    for tested in ("axe-core", "keyboard", "JavaScript switched off"):
        assert tested in page
    assert "Known limitations" in page
    assert '<a href="mailto:abseil@example.org">abseil@example.org</a>' in page


def test_the_statement_works_before_the_event_is_set_up(client):
    page = client.get("/accessibility").text
    assert "contact details at the foot of the page" in page


def test_every_page_links_it_from_the_footer(client, event):
    for path in ("/", "/auth/login", "/donate", "/no-such-page"):
        footer = client.get(path).text.split('<footer class="site-footer">')[1]
        assert '<a href="/accessibility">Accessibility</a>' in footer
