import { useMemo, useRef, useState } from 'react';
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
import { useCreateTask, useParameterSchema, useShownSteps, type ParameterSchema } from './api';
import { entityNameProblem, scaffolderFields, type ScaffolderFormContext } from './fields';
import { nextPage, pageOfField, parseFieldErrors, reviewRows, submittedValues, toErrorSchema, toFormPages, type FormPage, type ShownPages } from './form-schema';
import { entityTagProblem, repoUrlPickerOptions, repoUrlProblem } from './picker-options';

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
      {(parameters) => <TemplateWizard key={`${namespace}/${name}`} parameters={parameters} namespace={namespace} name={name} />}
    </QueryState>
  );
}

function tagsProblem(value: unknown): string | undefined {
  return Array.isArray(value) ? value.map((tag) => (typeof tag === 'string' ? entityTagProblem(tag) : 'a tag is text')).find((p) => p !== undefined) : undefined;
}

/**
 * The custom fields' own checks (rjsf's validation does the schema): EntityNamePicker's name rule,
 * RepoUrlPicker's value and allowed lists, EntityTagsPicker's tag rule, and what fields found out from
 * the server (`reported`).
 */
function validateCustomFields(page: FormPage, reported: ReadonlyMap<string, string>): CustomValidator<Values> {
  return (formData, errors) => {
    for (const [field, ui] of Object.entries(page.uiSchema)) {
      if (typeof ui !== 'object' || ui === null) continue;
      const hints = ui as Record<string, unknown>;
      const options = typeof hints['ui:options'] === 'object' && hints['ui:options'] !== null ? (hints['ui:options'] as Record<string, unknown>) : {};
      const problem =
        hints['ui:field'] === 'EntityNamePicker'
          ? entityNameProblem(formData?.[field])
          : hints['ui:field'] === 'RepoUrlPicker'
            ? (repoUrlProblem(formData?.[field], repoUrlPickerOptions(options)) ?? reported.get(field))
            : hints['ui:field'] === 'EntityTagsPicker'
              ? tagsProblem(formData?.[field])
              : undefined;
      if (problem !== undefined) errors[field]?.addError(problem);
    }
    return errors;
  };
}

function TemplateWizard({ parameters, namespace, name }: { parameters: ParameterSchema; namespace: string; name: string }) {
  const templateRef = `template:${namespace}/${name}`;
  const pages = useMemo(() => toFormPages(parameters.steps), [parameters]);
  const conditional = pages.some((p) => p.when !== undefined);
  const [active, setActive] = useState(0);
  // Pages with `when` show or not by the answers so far; the server renders the expressions on each Next.
  const [shown, setShown] = useState<ShownPages>([]);
  const shownSteps = useShownSteps(namespace, name);
  const [values, setValues] = useState<Values>({});
  const [serverErrors, setServerErrors] = useState<ErrorSchema | undefined>();
  const create = useCreateTask();
  const navigate = useNavigate();
  const page = pages[active];
  // Problems fields learn from the server (an existing repository), checked when the page is submitted.
  const reported = useRef(new Map<string, string>());
  // Secret fields' values: sent as the task's secrets, never as parameters (nor kept in the task).
  const secrets = useRef(new Map<string, string>());
  const formContext = useMemo<ScaffolderFormContext>(
    () => ({
      reportProblem: (field, problem) => {
        if (problem === undefined) reported.current.delete(field);
        else reported.current.set(field, problem);
      },
      setSecret: (name, value) => {
        if (value === undefined) secrets.current.delete(name);
        else secrets.current.set(name, value);
      },
      getSecret: (name) => secrets.current.get(name),
    }),
    [],
  );

  const submit = () => {
    const sent = submittedValues(pages, values, shown);
    // Only the secrets of fields still shown, like their values.
    const sentSecrets = Object.fromEntries([...secrets.current].filter(([name]) => name in sent));
    create.mutate(
      { templateRef, values: sent, ...(Object.keys(sentSecrets).length > 0 ? { secrets: sentSecrets } : {}) },
      {
        onSuccess: ({ id }) => navigate(`/create/tasks/${encodeURIComponent(id)}`),
        onError: (error) => {
          const fields = isApiError(error, 400) ? parseFieldErrors(error.message) : [];
          const firstPage = Math.min(...fields.map((f) => pageOfField(pages, f.field, values, shown)).filter((i) => i >= 0));
          if (!Number.isFinite(firstPage)) return;
          setServerErrors(toErrorSchema(fields));
          setActive(firstPage);
        },
      },
    );
  };

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
      <Stepper activeStep={pages.filter((_, i) => i < active && shown[i] !== false).length} aria-label="Form steps" sx={{ mb: 3 }}>
        {[...pages.filter((_, i) => shown[i] !== false).map((p) => p.title), 'Review'].map((title, i) => (
          <Step key={`${i}:${title}`}>
            <StepLabel>{title}</StepLabel>
          </Step>
        ))}
      </Stepper>
      {create.isError && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {create.error.message}
        </Alert>
      )}
      {shownSteps.isError && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {shownSteps.error.message}
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
              customValidate={validateCustomFields(page, reported.current)}
              formContext={formContext}
              extraErrors={serverErrors}
              showErrorList={false}
              noHtml5Validate
              onChange={(event) => setValues(asValues(event.formData))}
              onSubmit={(event) => {
                const next = asValues(event.formData);
                setValues(next);
                setServerErrors(undefined);
                if (!conditional) return setActive(nextPage(pages.length, active, 1));
                shownSteps.mutate(next, {
                  onSuccess: (result) => {
                    setShown(result);
                    setActive(nextPage(pages.length, active, 1, result));
                  },
                });
              }}
            >
              <Box sx={{ display: 'flex', gap: 1, mt: 3 }}>
                <Button disabled={nextPage(pages.length, active, -1, shown) === active} onClick={() => setActive(nextPage(pages.length, active, -1, shown))}>
                  Back
                </Button>
                <Button type="submit" variant="contained" loading={shownSteps.isPending}>
                  Next
                </Button>
              </Box>
            </Form>
          </Box>
        ) : (
          <Review pages={pages} shown={shown} values={values} onBack={() => setActive(nextPage(pages.length, pages.length, -1, shown))} onEdit={setActive} onCreate={submit} creating={create.isPending} />
        )}
      </Paper>
    </>
  );
}

function Review({ pages, shown, values, onBack, onEdit, onCreate, creating }: { pages: FormPage[]; shown: ShownPages; values: Values; onBack: () => void; onEdit: (page: number) => void; onCreate: () => void; creating: boolean }) {
  const rows = reviewRows(pages, values, shown);
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
