import { useState } from 'react';
import { Link as RouterLink } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Chip from '@mui/material/Chip';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableContainer from '@mui/material/TableContainer';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import ToggleButton from '@mui/material/ToggleButton';
import ToggleButtonGroup from '@mui/material/ToggleButtonGroup';
import { isPlatformAdmin, useMe } from '../app/auth';
import { formatDateTime } from '../components/format';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useTasks } from './api';
import { statusColor } from './TaskPage';

/** Scaffolder tasks, newest first: the user's own, or everyone's for a platform admin. */
export function TaskListPage() {
  const me = useMe();
  const admin = isPlatformAdmin(me);
  const [scope, setScope] = useState<'mine' | 'all'>('mine');
  const tasks = useTasks(scope === 'all' && admin ? undefined : `user:default/${me.user.username.toLowerCase()}`);
  return (
    <>
      <PageHeader
        title="Task history"
        subtitle={<>Templates run from the portal, the CLI or the API. <Link component={RouterLink} to="/create">Back to templates</Link></>}
        actions={
          admin ? (
            <ToggleButtonGroup size="small" exclusive value={scope} onChange={(_e, value: 'mine' | 'all' | null) => value !== null && setScope(value)} aria-label="Whose tasks">
              <ToggleButton value="mine">Mine</ToggleButton>
              <ToggleButton value="all">All</ToggleButton>
            </ToggleButtonGroup>
          ) : undefined
        }
      />
      <QueryState query={tasks} label="tasks">
        {({ tasks: items }) =>
          items.length === 0 ? (
            <Alert severity="info">No tasks yet; choose a template to create something.</Alert>
          ) : (
            <TableContainer component={Paper} variant="outlined">
              <Table size="small" aria-label="Tasks">
                <TableHead>
                  <TableRow>
                    <TableCell>Task</TableCell>
                    <TableCell>Template</TableCell>
                    <TableCell>Status</TableCell>
                    <TableCell>Created by</TableCell>
                    <TableCell>Created</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {items.map((task) => (
                    <TableRow key={task.id} hover>
                      <TableCell>
                        <Link component={RouterLink} to={`/create/tasks/${encodeURIComponent(task.id)}`} sx={{ fontFamily: 'monospace' }}>
                          {task.id.slice(0, 8)}
                        </Link>
                      </TableCell>
                      <TableCell>{task.spec.templateInfo.entityRef}</TableCell>
                      <TableCell>
                        <Chip size="small" label={task.status} color={statusColor[task.status]} />
                      </TableCell>
                      <TableCell>{task.createdBy}</TableCell>
                      <TableCell>{formatDateTime(task.createdAt)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            </TableContainer>
          )
        }
      </QueryState>
    </>
  );
}
