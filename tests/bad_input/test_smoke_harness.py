"""The harness itself: the untouched demo inputs run clean and account for every row."""


def test_clean_demo_inputs_run(case):
    case.run().expect(0)
