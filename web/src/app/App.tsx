import { lazy, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuditPage } from '../admin/AuditPage';
import { AllTokensPage } from '../admin/AllTokensPage';
import { UsersPage } from '../admin/UsersPage';
import { TokensPage } from '../account/TokensPage';
import { CatalogPage } from '../catalog/CatalogPage';
import { EntityPage } from '../catalog/EntityPage';
import { RegisterPage } from '../catalog/RegisterPage';
import { DocsIndexPage } from '../docs/DocsIndexPage';
import { DocsPage } from '../docs/DocsPage';
import { PolicyPage } from '../policy/PolicyPage';
import { SearchPage } from '../search/SearchPage';
import { Loading } from '../components/QueryState';
import { AuthProvider, isPlatformAdmin } from './auth';
import { RequireAuth, RequireRole } from './guards';
import { HomePage } from './HomePage';
import { LoginPage } from './LoginPage';
import { NotFoundPage } from './NotFoundPage';
import { Shell } from './Shell';

// The scaffolder pages (and @rjsf with them) load on first visit to /create.
const ScaffolderRoutes = lazy(() => import('../scaffolder/ScaffolderRoutes'));
const PipelinesRoutes = lazy(() => import('../pipelines/PipelinesRoutes'));
const DeliveryRoutes = lazy(() => import('../delivery/DeliveryRoutes'));
const SecurityRoutes = lazy(() => import('../security/SecurityRoutes'));
const ResourcesRoutes = lazy(() => import('../resources/ResourcesRoutes'));

/** The portal's routes; a layer adds its pages here and its entry in nav.ts. */
export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <Routes>
          <Route path="/login" element={<LoginPage />} />
          <Route
            element={
              <RequireAuth>
                <Shell />
              </RequireAuth>
            }
          >
            <Route index element={<HomePage />} />
            <Route path="catalog" element={<CatalogPage />} />
            <Route path="catalog/register" element={<RegisterPage />} />
            <Route path="catalog/:namespace/:kind/:name/*" element={<EntityPage />} />
            <Route path="create/*" element={<Suspense fallback={<Loading label="Loading page" />}><ScaffolderRoutes /></Suspense>} />
            <Route path="runs/*" element={<Suspense fallback={<Loading label="Loading page" />}><PipelinesRoutes /></Suspense>} />
            <Route path="delivery/*" element={<Suspense fallback={<Loading label="Loading page" />}><DeliveryRoutes /></Suspense>} />
            <Route path="docs" element={<DocsIndexPage />} />
            <Route path="docs/:namespace/:kind/:name/*" element={<DocsPage />} />
            <Route path="search" element={<SearchPage />} />
            <Route path="security/*" element={<Suspense fallback={<Loading label="Loading page" />}><SecurityRoutes /></Suspense>} />
            <Route path="resources/*" element={<Suspense fallback={<Loading label="Loading page" />}><ResourcesRoutes /></Suspense>} />
            <Route path="guardrails" element={<PolicyPage />} />
            <Route path="settings/tokens" element={<TokensPage />} />
            <Route path="admin" element={<RequireRole allow={isPlatformAdmin} area="Administration" />}>
              <Route index element={<Navigate to="users" replace />} />
              <Route path="users" element={<UsersPage />} />
              <Route path="tokens" element={<AllTokensPage />} />
              <Route path="audit" element={<AuditPage />} />
            </Route>
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </AuthProvider>
    </BrowserRouter>
  );
}
