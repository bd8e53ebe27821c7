import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UNKNOWN_MIME, mimeOfName } from '../../lib/mime';

describe('mimeOfName', () => {
  it('goes by the last extension, case-insensitively', () => {
    assert.equal(mimeOfName('Shot.PNG'), 'image/png');
    assert.equal(mimeOfName('build.tar.gz'), 'application/gzip');
    assert.equal(mimeOfName('fix.patch'), 'text/x-diff');
  });

  it('looks only at the last path part, and a leading dot is a hidden name, not an extension', () => {
    assert.equal(mimeOfName('logs.d/readme'), UNKNOWN_MIME);
    assert.equal(mimeOfName('C:\\dir.png\\notes'), UNKNOWN_MIME);
    assert.equal(mimeOfName('.png'), UNKNOWN_MIME);
    assert.equal(mimeOfName('noext'), UNKNOWN_MIME);
  });

  it('knows nothing of names an object already has', () => {
    assert.equal(mimeOfName('x.constructor'), UNKNOWN_MIME);
    assert.equal(mimeOfName('x.__proto__'), UNKNOWN_MIME);
  });
});
