import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'crisp',
  'eager',
  'fair',
  'gentle',
  'keen',
  'lively',
  'lucky',
  'merry',
  'nimble',
  'quiet',
  'rapid',
  'sharp',
  'silent',
  'steady',
  'swift',
  'tidy',
  'vivid',
  'wise',
];
const NOUNS = [
  'badger',
  'bear',
  'crane',
  'deer',
  'dove',
  'eagle',
  'falcon',
  'finch',
  'fox',
  'hare',
  'heron',
  'lark',
  'lynx',
  'moth',
  'otter',
  'owl',
  'panda',
  'robin',
  'seal',
  'sparrow',
  'swan',
  'tiger',
  'whale',
  'wolf',
];

/** A readable name for a run created without one (MLflow gives runs names like `bold-fox-123`). */
export function randomRunName(): string {
  const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)] ?? 'bold';
  const noun = NOUNS[randomInt(NOUNS.length)] ?? 'fox';
  return `${adjective}-${noun}-${randomInt(1000)}`;
}
