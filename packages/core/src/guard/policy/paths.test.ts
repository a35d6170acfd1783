import { expect, it } from 'vitest';
import { looksLikePath, normalisePath, pathForms } from './paths.js';

it.each([
  ['/', '/'],
  ['//', '/'],
  ['/tmp/../', '/'],
  ['/../..', '/'],
  ['/etc/./passwd', '/etc/passwd'],
  ['/etc//passwd/', '/etc/passwd'],
  ['./build', 'build'],
  ['.', '.'],
  ['../x/../..', '../..'],
])('normalisePath(%j) = %j', (input, want) => {
  expect(normalisePath(input)).toBe(want);
});

it('spells home in every way a rule may name it', () => {
  expect(pathForms('$HOME/')).toEqual(['$HOME/', '~']);
  expect(pathForms('${HOME}/.ssh/id_rsa')).toEqual(['${HOME}/.ssh/id_rsa', '~/.ssh/id_rsa']);
  expect(pathForms('/root/.bashrc')).toEqual(['/root/.bashrc', '~/.bashrc']);
  expect(pathForms('/home/*')).toEqual(['/home/*', '~']);
  expect(pathForms('push')).toEqual(['push']);
});

it('treats prose and blobs as not paths', () => {
  expect(looksLikePath('/etc/passwd')).toBe(true);
  expect(looksLikePath('~')).toBe(true);
  expect(looksLikePath('hello world')).toBe(false);
  expect(looksLikePath('line one/\nline two')).toBe(false);
  expect(looksLikePath(`/${'a'.repeat(5000)}`)).toBe(false);
});
