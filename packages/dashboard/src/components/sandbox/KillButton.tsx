/** Kill with a second, explicit confirmation (Escape or Cancel backs out). */
import { useEffect, useRef, useState, type JSX } from 'react';
import { ErrorNotice } from '../../ui/ErrorNotice.js';

export function KillButton({ onKill }: { readonly onKill: () => Promise<void> }): JSX.Element {
  const [step, setStep] = useState<'idle' | 'confirm' | 'killing'>('idle');
  const [error, setError] = useState<unknown>(undefined);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (step === 'confirm') confirmRef.current?.focus();
  }, [step]);

  if (step === 'idle') {
    return (
      <div className="kill">
        <button type="button" className="danger" onClick={() => setStep('confirm')}>
          Kill sandbox
        </button>
        <ErrorNotice error={error} context="Kill failed" />
      </div>
    );
  }
  return (
    <div className="kill" role="group" aria-label="Confirm kill" onKeyDown={(e) => e.key === 'Escape' && setStep('idle')}>
      <span>End every process and discard the sandbox?</span>
      <button
        type="button"
        className="danger"
        ref={confirmRef}
        disabled={step === 'killing'}
        onClick={() => {
          setStep('killing');
          onKill().then(
            () => setStep('idle'),
            (err: unknown) => {
              setError(err);
              setStep('idle');
            },
          );
        }}
      >
        {step === 'killing' ? 'Killing…' : 'Yes, kill it'}
      </button>
      <button type="button" onClick={() => setStep('idle')} disabled={step === 'killing'}>
        Cancel
      </button>
    </div>
  );
}
