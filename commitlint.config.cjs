// Commit subjects (issue 24): Conventional Commits, a subject of at most 72 characters (STYLE:
// `feat(checkout): …`). `npm test`'s static tier lints every commit after COMMITLINT_FROM
// (scripts/test.mjs); older history stays as it was written.
module.exports = {
  extends: ['@commitlint/config-conventional'],
  rules: {
    'header-max-length': [2, 'always', 72],
    // Bodies carry figures and file names; the conventional config's 100 columns would cut
    // a long path. Reasons and figures matter more than the width.
    'body-max-line-length': [0],
    'footer-max-line-length': [0],
  },
};
