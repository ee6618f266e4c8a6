import { useMemo, useState } from 'react';
import { Link as RouterLink, useNavigate, useParams } from 'react-router-dom';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableRow from '@mui/material/TableRow';
import Typography from '@mui/material/Typography';
import Form from '@rjsf/mui';
import type { CustomValidator, ErrorSchema } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { isApiError } from '../app/http';
import { PageHeader } from '../components/PageHeader';
import { QueryState } from '../components/QueryState';
import { useCreateTask, useParameterSchema, type ParameterSchema } from './api';
import { entityNameProblem, scaffolderFields } from './fields';
import { pageOfField, parseFieldErrors, reviewRows, toErrorSchema, toFormPages, type FormPage } from './form-schema';

type Values = Record<string, unknown>;

/** rjsf's form data is untyped; a parameter page's root is always an object. */
function asValues(data: unknown): Values {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Values) : {};
}

/** A template's form: one step per parameter page, then a review of every value, then the task. */
export function TemplateFormPage() {
  const { namespace = 'default', name = '' } = useParams();
  const schema = useParameterSchema(namespace, name);
  return (
    <QueryState query={schema} label="the template's parameters">
      {(parameters) => <TemplateWizard key={`${namespace}/${name}`} parameters={parameters} templateRef={`template:${namespace}/${name}`} />}
    </QueryState>
  );
}

/** Backstage's EntityNamePicker validation, for the fields that use it (rjsf's own validation does the rest). */
function validateCustomFields(page: FormPage): CustomValidator<Values> {
  return (formData, errors) => {
    for (const [field, ui] of Object.entries(page.uiSchema)) {
      if (typeof ui !== 'object' || ui === null || (ui as Record<string, unknown>)['ui:field'] !== 'EntityNamePicker') continue;
      const problem = entityNameProblem(formData?.[field]);
      if (problem !== undefined) errors[field]?.addError(problem);
    }
    return errors;
  };
}

function TemplateWizard({ parameters, templateRef }: { parameters: ParameterSchema; templateRef: string }) {
  const pages = useMemo(() => toFormPages(parameters.steps), [parameters]);
  const [active, setActive] = useState(0);
  const [values, setValues] = useState<Values>({});
  const [serverErrors, setServerErrors] = useState<ErrorSchema | undefined>();
  const create = useCreateTask();
  const navigate = useNavigate();
  const page = pages[active];

  const submit = () =>
    create.mutate(
      { templateRef, values },
      {
        onSuccess: ({ id }) => navigate(`/create/tasks/${encodeURIComponent(id)}`),
        onError: (error) => {
          const fields = isApiError(error, 400) ? parseFieldErrors(error.message) : [];
          const firstPage = Math.min(...fields.map((f) => pageOfField(pages, f.field)).filter((i) => i >= 0));
          if (!Number.isFinite(firstPage)) return;
          setServerErrors(toErrorSchema(fields));
          setActive(firstPage);
        },
      },
    );

  return (
    <>
      <PageHeader
        title={parameters.title}
        subtitle={
          <>
            Nothing is created until you confirm on the review step. <Link component={RouterLink} to="/create">Back to templates</Link>
          </>
        }
      />
      <Stepper activeStep={active} aria-label="Form steps" sx={{ mb: 3 }}>
        {[...pages.map((p) => p.title), 'Review'].map((title) => (
          <Step key={title}>
            <StepLabel>{title}</StepLabel>
          </Step>
        ))}
      </Stepper>
      {create.isError && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {create.error.message}
        </Alert>
      )}
      <Paper variant="outlined" sx={{ p: 3, maxWidth: 760 }}>
        {page !== undefined ? (
          <Box component="section" aria-label={page.title}>
            {page.description !== undefined && (
              <Typography variant="body2" color="text.secondary" sx={{ mb: 2 }}>
                {page.description}
              </Typography>
            )}
            <Form
              key={active}
              schema={page.schema}
              uiSchema={page.uiSchema}
              formData={values}
              validator={validator}
              fields={scaffolderFields}
              customValidate={validateCustomFields(page)}
              extraErrors={serverErrors}
              showErrorList={false}
              noHtml5Validate
              onChange={(event) => setValues(asValues(event.formData))}
              onSubmit={(event) => {
                setValues(asValues(event.formData));
                setServerErrors(undefined);
                setActive(active + 1);
              }}
            >
              <Box sx={{ display: 'flex', gap: 1, mt: 3 }}>
                <Button disabled={active === 0} onClick={() => setActive(active - 1)}>
                  Back
                </Button>
                <Button type="submit" variant="contained">
                  Next
                </Button>
              </Box>
            </Form>
          </Box>
        ) : (
          <Review pages={pages} values={values} onBack={() => setActive(pages.length - 1)} onEdit={setActive} onCreate={submit} creating={create.isPending} />
        )}
      </Paper>
    </>
  );
}

function Review({ pages, values, onBack, onEdit, onCreate, creating }: { pages: FormPage[]; values: Values; onBack: () => void; onEdit: (page: number) => void; onCreate: () => void; creating: boolean }) {
  const rows = reviewRows(pages, values);
  return (
    <Box component="section" aria-label="Review">
      <Typography variant="h6" component="h2" gutterBottom>
        Review
      </Typography>
      <Table size="small" aria-label="Values to create with">
        <TableBody>
          {rows.map((row) => (
            <TableRow key={`${row.page}/${row.field}`}>
              <TableCell component="th" scope="row" sx={{ width: 220, fontWeight: 500 }}>
                {row.label}
              </TableCell>
              <TableCell sx={{ wordBreak: 'break-word' }}>{row.value}</TableCell>
              <TableCell align="right" sx={{ width: 80 }}>
                <Button size="small" aria-label={`Edit ${row.label}`} onClick={() => onEdit(row.page)}>
                  Edit
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <Box sx={{ display: 'flex', gap: 1, mt: 3 }}>
        <Button onClick={onBack} disabled={pages.length === 0}>
          Back
        </Button>
        <Button variant="contained" onClick={onCreate} loading={creating}>
          Create
        </Button>
      </Box>
    </Box>
  );
}
