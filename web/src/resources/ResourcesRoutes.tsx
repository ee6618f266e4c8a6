import { lazy, Suspense } from 'react';
import { Route, Routes } from 'react-router-dom';
import { NotFoundPage } from '../app/NotFoundPage';
import { Loading } from '../components/QueryState';
import { ClaimPage } from './ClaimPage';
import { ResourcesPage } from './ResourcesPage';

// The claim form brings @rjsf and ajv: loaded only when a module is claimed.
const ClaimFormPage = lazy(() => import('./ClaimFormPage').then((m) => ({ default: m.ClaimFormPage })));

/** The self-service resource pages under /resources (loaded lazily by App.tsx). */
export default function ResourcesRoutes() {
  return (
    <Routes>
      <Route index element={<ResourcesPage tab="menu" />} />
      <Route path="mine" element={<ResourcesPage tab="mine" />} />
      <Route
        path="claim/:module"
        element={
          <Suspense fallback={<Loading label="Loading the form" />}>
            <ClaimFormPage />
          </Suspense>
        }
      />
      <Route path="claims/:id" element={<ClaimPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}
