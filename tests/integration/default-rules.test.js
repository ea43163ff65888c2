// The shipped moderation.yml on the kind of text a news site gets: ordinary discussion
// that uses the words spam also uses (vote, invest, donations, "check out the report",
// "please read", "I'd subscribe to that view") is published, and the spam those words
// come from is still held. Runs `parley rules test` on the real config file.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const BIN = process.env.PARLEY_BIN || path.join(__dirname, '../../build/parley');
const CONFIG = path.join(__dirname, '../../moderation.yml');

function decide(bodies) {
  const input = bodies.map((body, i) => JSON.stringify({ body, article: `news-${i}` })).join('\n') + '\n';
  const r = spawnSync(BIN, ['rules', 'test', '--config', CONFIG], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, bodies.length);
  return lines;
}

const discussion = [
  'The investigation found that donations to the campaign were never registered with the electoral commission. Voters deserve better.',
  'I voted for him last time but the referendum result changed my mind. Please read the full report before you comment.',
  'Investors will sell at the first sign of trouble, and the funds that bought in early will earn the most.',
  'Register to vote before Friday! The deadline is close and every vote counts in this district.',
  'Great reporting. I\'d subscribe to this paper again if you kept doing investigations like this one.',
  'I would subscribe to that theory if the figures supported it, but they do not.',
  'Check out the council minutes from 2019: they voted the same plan down then. Nothing has changed.',
  'He was promoted after the merger, sold his shares, and now wants us to support the buyout. Please.',
  'The petition has 200,000 signatures, so parliament must debate it. Help us understand why the vote was at 11pm.',
  'Download the budget yourself: the promotion budget tripled while libraries closed and donations fell.',
  'The council refused the Gypsy and Traveller site again, so Gypsies and Travellers still have nowhere legal to stop.',
  'Nurses here make $40 an hour and still cannot afford the rent. I paid $25 online for a parking permit last week.',
  'The court ruled he should be released; the victims\' families say he deserves a longer sentence. Shut the border? Not likely.',
  'The bill should be killed in committee, and the plan needs to be executed properly or not at all; the record will be beaten.',
  'What a joke of a budget. The chancellor should get a grip on inflation before cutting taxes again.',
];

const spam = [
  'check out my channel and subscribe please',
  'Please read my new post, I write about making money online every week',
  'I would subscribe to your channel if you sub back',
  'Subscribe and like to me for more how to videos',
  'Check out this video on my channel, it took me weeks to make',
  'My aunt makes $85 an hour on the internet. She has been without work for 9 months but last month her income was $17000.',
  "I'm earning £90 an hour working from my laptop. Here is what I do",
  'WINNER!! As a valued customer you have been selected to receive a £900 prize reward! Claim code KL341.',
];

// Abuse as it is written under news articles: threats and wishes of violence, and
// name-calling aimed at another reader.
const abuse = [
  'People like you should be shot.',
  'Someone should put a bullet in that traitor\'s head.',
  'I know where you live, watch your back.',
  'Hang them all from the nearest lamppost.',
  'The journalist who wrote this deserves to be raped.',
  'Go back to your own country if you hate it here so much.',
  'Shut your mouth, you brainless troll.',
  'What a pathetic loser you are.',
  'You are a disgrace to humanity, crawl back under your rock.',
  'Libtards like you are the reason this country is dying.',
];

test('ordinary news discussion with commercial-sounding words is published', () => {
  decide(discussion).forEach((res, i) => {
    assert.equal(res.decision, 'publish', `held: "${discussion[i]}" by ${JSON.stringify(res.rules)}`);
  });
});

test('the commercial rule alone never holds: its score is bounded below the hold line', () => {
  const [res] = decide(['Buy, sell, invest, vote, donate, register, download, promote: the whole economy in one list.']);
  const commercial = res.rules.find((r) => r.name === 'commercial');
  assert.ok(commercial, 'commercial fired');
  assert.equal(commercial.score, 4.5);
  assert.equal(res.decision, 'publish');
});

test('threats and name-calling aimed at readers are held', () => {
  decide(abuse).forEach((res, i) => {
    assert.notEqual(res.decision, 'publish', `published: "${abuse[i]}"`);
  });
});

test('the spam those words come from is still held or refused', () => {
  decide(spam).forEach((res, i) => {
    assert.notEqual(res.decision, 'publish', `published: "${spam[i]}"`);
  });
});
