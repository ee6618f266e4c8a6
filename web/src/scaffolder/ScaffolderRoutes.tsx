import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router-dom';
import { NotFoundPage } from '../app/NotFoundPage';
import { Loading } from '../components/QueryState';
import { TaskListPage } from './TaskListPage';
import { TaskPage } from './TaskPage';
import { TemplateGalleryPage } from './TemplateGalleryPage';

// The form brings @rjsf and ajv: loaded only when a template is opened.
const TemplateFormPage = lazy(() => import('./TemplateFormPage').then((m) => ({ default: m.TemplateFormPage })));

/** The scaffolder's pages under /create (loaded lazily by App.tsx). */
export default function ScaffolderRoutes() {
  return (
    <Routes>
      <Route index element={<TemplateGalleryPage />} />
      <Route
        path="templates/:namespace/:name"
        element={
          <Suspense fallback={<Loading label="Loading the form" />}>
            <TemplateFormPage />
          </Suspense>
        }
      />
      <Route path="tasks" element={<TaskListPage />} />
      <Route path="tasks/:id" element={<TaskPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
