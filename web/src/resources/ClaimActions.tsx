import { useId, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useBackupClaim, useDeleteClaim, useModules, useRestoreClaim, useRotateClaim, useUpgradeClaim, useUpgradePlan, type ClaimView, type ModuleView, type Operation } from './api';
import { formatMonthly, hasBackups, hasRotation, upgradeTarget } from './view';

type Dialog = 'delete' | 'rotate' | 'restore' | 'upgrade' | undefined;

/** The owner's actions on a ready (or failed) claim: back up, restore the newest backup, rotate credentials, upgrade, delete. */
export function ClaimActions({ claim }: { claim: ClaimView }) {
  const [dialog, setDialog] = useState<Dialog>();
  const modules = useModules();
  const target = claim.phase === 'ready' ? upgradeTarget(claim, modules.data ?? []) : undefined;
  const [queued, setQueued] = useState<Operation | undefined>();
  const remove = useDeleteClaim(claim.id);
  const backup = useBackupClaim(claim.id);
  const restore = useRestoreClaim(claim.id);
  const rotate = useRotateClaim(claim.id);
  const ready = claim.phase === 'ready';
  const done = (op: Operation) => {
    setQueued(op);
    setDialog(undefined);
  };
  return (
    <Box component="section" aria-label="Actions" sx={{ mt: 2 }}>
      <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }}>
        {ready && hasBackups(claim.provider) && (
          <>
            <Button variant="outlined" loading={backup.isPending} onClick={() => backup.mutate(undefined, { onSuccess: done })}>
              Back up now
            </Button>
            <Button variant="outlined" onClick={() => setDialog('restore')}>
              Restore newest backup
            </Button>
          </>
        )}
        {ready && hasRotation(claim.provider) && (
          <Button variant="outlined" onClick={() => setDialog('rotate')}>
            Rotate credentials
          </Button>
        )}
        {target !== undefined && (
          <Button variant="outlined" onClick={() => setDialog('upgrade')}>
            Upgrade to {target.name}@{target.version}
          </Button>
        )}
        <Button variant="outlined" color="error" onClick={() => setDialog('delete')}>
          Delete
        </Button>
      </Box>
      {backup.error !== null && (
        <Alert severity="error" sx={{ mt: 1 }}>
          {backup.error.message}
        </Alert>
      )}
      {queued !== undefined && (
        <Alert severity="info" sx={{ mt: 1 }} onClose={() => setQueued(undefined)}>
          {queued.kind} requested ({queued.id}); follow it under Operations.
        </Alert>
      )}
      <ConfirmDialog
        open={dialog === 'delete'}
        title={`Delete ${claim.name}?`}
        confirmLabel="Delete"
        pending={remove.isPending}
        error={remove.error}
        onClose={() => setDialog(undefined)}
        onConfirm={() => remove.mutate(undefined, { onSuccess: () => setDialog(undefined) })}
      >
        {hasBackups(claim.provider)
          ? `A final backup of ${claim.name} (${claim.environment}) is taken first and kept for the retention period, so it can be restored into a new claim of the same name; then the resource and its credentials are removed.`
          : `${claim.name} (${claim.environment}) and its credentials are removed; this ${claim.module} keeps no data to back up.`}
      </ConfirmDialog>
      <ConfirmDialog
        open={dialog === 'rotate'}
        title={`Rotate the credentials of ${claim.name}?`}
        confirmLabel="Rotate"
        pending={rotate.isPending}
        error={rotate.error}
        onClose={() => setDialog(undefined)}
        onConfirm={() => rotate.mutate(undefined, { onSuccess: done })}
      >
        New credentials (a new password on the server, or a new certificate) are stored as a new version of the claim’s secret, and the workloads reading it are restarted or reloaded. The old ones keep working for the grace period, then they are revoked.
      </ConfirmDialog>
      <RestoreDialog claim={claim} open={dialog === 'restore'} backupId={undefined} onClose={() => setDialog(undefined)} onQueued={done} mutation={restore} />
      {dialog === 'upgrade' && target !== undefined && <UpgradeDialog claim={claim} target={target} onClose={() => setDialog(undefined)} />}
    </Box>
  );
}

/** Plans the upgrade when it opens and shows the new price and the guardrails' decision; only an allowed plan can be applied. */
function UpgradeDialog({ claim, target, onClose }: { claim: ClaimView; target: ModuleView; onClose: () => void }) {
  const titleId = useId();
  const plan = useUpgradePlan(claim.id, target.version);
  const upgrade = useUpgradeClaim(claim.id);
  const planned = plan.data;
  const error = plan.error ?? upgrade.error;
  return (
    <Dialog open onClose={upgrade.isPending ? undefined : onClose} aria-labelledby={titleId} maxWidth="xs" fullWidth>
      <DialogTitle id={titleId}>{`Upgrade ${claim.name} to ${target.name}@${target.version}?`}</DialogTitle>
      <DialogContent>
        {planned === undefined ? (
          plan.isPending && <DialogContentText>Planning the upgrade…</DialogContentText>
        ) : (
          <>
            <DialogContentText>
              {`${claim.module}@${claim.version} → ${planned.version}, preset ${planned.preset}: ${formatMonthly(claim.cost.monthly, claim.cost.currency)} → ${formatMonthly(planned.cost.monthly, planned.cost.currency)}. Its apply steps run again with the new version; the credentials and the data stay.`}
            </DialogContentText>
            <Alert severity={planned.decision.allowed ? 'success' : 'error'} aria-label="Decision" sx={{ mt: 2 }}>
              {planned.decision.allowed ? 'Allowed by the guardrails' : `Denied by the guardrails: ${planned.decision.denials.map((d) => `${d.policy}/${d.rule}: ${d.message}`).join('; ')}`}
            </Alert>
          </>
        )}
        {error !== null && (
          <Alert severity="error" sx={{ mt: 2 }}>
            {error.message}
          </Alert>
        )}
      </DialogContent>
      <DialogActions sx={{ px: 3, pb: 2 }}>
        <Button onClick={onClose} disabled={upgrade.isPending}>
          Cancel
        </Button>
        <Button variant="contained" onClick={() => upgrade.mutate(target.version, { onSuccess: onClose })} loading={upgrade.isPending} disabled={planned?.decision.allowed !== true}>
          Upgrade
        </Button>
      </DialogActions>
    </Dialog>
  );
}

function RestoreDialog({
  claim,
  open,
  backupId,
  onClose,
  onQueued,
  mutation,
}: {
  claim: ClaimView;
  open: boolean;
  backupId: string | undefined;
  onClose: () => void;
  onQueued: (op: Operation) => void;
  mutation: ReturnType<typeof useRestoreClaim>;
}) {
  return (
    <ConfirmDialog
      open={open}
      title={`Restore ${claim.name}?`}
      confirmLabel="Restore"
      pending={mutation.isPending}
      error={mutation.error}
      onClose={onClose}
      onConfirm={() => mutation.mutate(backupId, { onSuccess: onQueued })}
    >
      {backupId === undefined ? 'The newest backup' : `Backup ${backupId}`} replaces what {claim.name} holds now, all or nothing: a broken backup fails and leaves the data unchanged.
    </ConfirmDialog>
  );
}

/** Restores one listed backup (asks first). */
export function RestoreButton({ claim, backupId }: { claim: ClaimView; backupId: string }) {
  const [open, setOpen] = useState(false);
  const restore = useRestoreClaim(claim.id);
  return (
    <>
      <Button size="small" onClick={() => setOpen(true)} aria-label={`Restore ${backupId}`}>
        Restore
      </Button>
      <RestoreDialog claim={claim} open={open} backupId={backupId} onClose={() => setOpen(false)} onQueued={() => setOpen(false)} mutation={restore} />
    </>
  );
}
