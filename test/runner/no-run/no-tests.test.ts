// Runner fixture (see test/runner/README.md): a test file with no test in it.
export const nothing = 'here';
