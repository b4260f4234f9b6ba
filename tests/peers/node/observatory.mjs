// MDN's HTTP Observatory, as outside reviewers run it, against a local server. Usage:
//   NODE_EXTRA_CA_CERTS=ca.pem node observatory.mjs HOST HTTPS_PORT PATH [COOKIE]
// prints {"grade", "score", "tests": {name: {pass, result, scoreModifier}}} as JSON.
//
// This is the package's own scan() (src/scanner/index.js) line for line, with one difference: it
// hands its options to retrieve(), which scan() forgets to do, so that a port, a path and a
// cookie (name=value, to see a signed-in page) reach the request. The tests and grader are the package's.
import { MINIMUM_SCORE_FOR_EXTRA_CREDIT } from '@mdn/mdn-http-observatory/src/grader/charts.js';
import { getGradeForScore, getScoreModifier } from '@mdn/mdn-http-observatory/src/grader/grader.js';
import { retrieve } from '@mdn/mdn-http-observatory/src/retriever/retriever.js';
import { ALL_TESTS } from '@mdn/mdn-http-observatory/src/constants.js';

const [hostname, httpsPort, path, cookie] = process.argv.slice(2);
const headers = ['Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'];
if (cookie) headers.push(`Cookie: ${cookie}`);
const r = await retrieve(hostname, { httpsPort, httpPort: '1', path, headers });
if (!r.responses.auto) throw new Error('The site seems to be down.');

const results = ALL_TESTS.map((test) => test(r));
let scoreWithExtraCredit = 100;
let uncurvedScore = 100;
for (const result of results) {
  if (result.result) {
    result.scoreModifier = getScoreModifier(result.result);
    scoreWithExtraCredit += result.scoreModifier;
    if (result.scoreModifier < 0) uncurvedScore += result.scoreModifier;
  }
}
const score = uncurvedScore >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? scoreWithExtraCredit : uncurvedScore;
const final = getGradeForScore(score);
const tests = Object.fromEntries(results.map((result) => [result.constructor.name,
  { pass: result.pass, result: result.result, scoreModifier: result.scoreModifier }]));
console.log(JSON.stringify({ grade: final.grade, score: final.score, status: r.responses.auto.status,
  url: r.responses.auto.config?.url, tests }));
